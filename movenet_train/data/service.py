"""tf.data service: the training input pipeline on the CPUs of other processes or machines (``data.service``).

When one machine's cores cannot feed its accelerators (Thunder's pipeline gives about 200 images/s on two cores),
``tf.data.experimental.service`` runs the pipeline (read, decode, crop, augment, encode targets, batch) on worker
servers; the trainer only receives the batches. Start a dispatcher and any number of workers, then train with
``data.service`` set to the dispatcher (docs/scale.md)::

    python -m movenet_train.data.service dispatcher --port 5050
    python -m movenet_train.data.service worker --dispatcher HOST:5050 --port 5051 --address WORKER_HOST
    python train.py +exp=thunder data=coco data.service=grpc://HOST:5050

The workers read the records themselves: the paths in the config must be valid on every worker machine.
"""

import argparse
import dataclasses
import logging
import socket

import tensorflow as tf

log = logging.getLogger(__name__)

PROTOCOL = "grpc://"
# Dynamic sharding ("distributed_epoch"): the dispatcher hands each record file to one worker at a time, so an
# epoch's examples are spread over the workers and none is produced twice. In "parallel_epochs" every worker would
# run the whole seeded pipeline and produce the very same batches, each reaching the trainer once per worker.
SHARDING = tf.data.experimental.service.ShardingPolicy.DYNAMIC


def distribute(dataset, service):
    """``dataset`` produced by the tf.data service workers of the dispatcher at ``service`` (``grpc://HOST:PORT``
    or ``HOST:PORT``) instead of in this process."""
    return dataset.apply(tf.data.experimental.service.distribute(processing_mode=SHARDING, service=service))


def resumed_config(data_cfg, start_step):
    """The data config of a run resumed at ``start_step`` whose pipeline runs on the service: the remote stream's
    order depends on which worker finishes first, so it cannot be replayed to the step reached (``build_dataset``'s
    ``start_step`` skip would skip in every worker); instead a new pass starts, its shuffling and augmentation
    seeded with ``loader.seed + start_step`` so that it does not repeat the run's first batches."""
    from movenet_train.data.config import data_config

    data_cfg = data_config(data_cfg)
    if not start_step:
        return data_cfg
    return dataclasses.replace(data_cfg, loader=dataclasses.replace(data_cfg.loader,
                                                                    seed=data_cfg.loader.seed + int(start_step)))


def host_port(address):
    """``HOST:PORT`` of a dispatcher address given with or without ``grpc://``."""
    return address[len(PROTOCOL):] if address.startswith(PROTOCOL) else address


def start_dispatcher(port=0, work_dir=None):
    """A dispatcher server, started; ``work_dir`` (a folder every restart of it can read) makes it fault tolerant:
    restarted with the same folder, it recovers its jobs and the workers reconnect."""
    config = tf.data.experimental.service.DispatcherConfig(port=port, work_dir=work_dir,
                                                           fault_tolerant_mode=bool(work_dir))
    return tf.data.experimental.service.DispatchServer(config)


def start_worker(dispatcher, port=0, address=None):
    """A worker server registered with ``dispatcher``, started. ``address``: the host name the trainer reaches this
    worker by (``localhost`` when omitted, which only a trainer on the same machine can use)."""
    config = tf.data.experimental.service.WorkerConfig(
        dispatcher_address=host_port(dispatcher), port=port,
        worker_address=f"{address}:%port%" if address else "localhost:%port%")
    return tf.data.experimental.service.WorkerServer(config)


def main(argv=None):
    parser = argparse.ArgumentParser(description="tf.data service servers for data.service (docs/scale.md)")
    servers = parser.add_subparsers(dest="server", required=True)
    dispatcher = servers.add_parser("dispatcher", help="start the dispatcher that trainers and workers connect to")
    dispatcher.add_argument("--port", type=int, default=5050)
    dispatcher.add_argument("--work-dir", help="folder for the dispatcher's journal (fault tolerant restarts)")
    worker = servers.add_parser("worker", help="start a worker that runs input pipelines for the dispatcher")
    worker.add_argument("--dispatcher", required=True, help="HOST:PORT (or grpc://HOST:PORT) of the dispatcher")
    worker.add_argument("--port", type=int, default=5051)
    worker.add_argument("--address", help="this machine's host name as the trainer reaches it (default localhost)")
    args = parser.parse_args(argv)
    if args.server == "dispatcher":
        server = start_dispatcher(args.port, args.work_dir)
        target = f"{PROTOCOL}{socket.getfqdn()}:{args.port}"
        print(f"tf.data service dispatcher on port {args.port}: train with data.service={target}", flush=True)
    else:
        server = start_worker(args.dispatcher, args.port, args.address)
        print(f"tf.data service worker on port {args.port} serving the dispatcher {host_port(args.dispatcher)}",
              flush=True)
    try:
        server.join()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
