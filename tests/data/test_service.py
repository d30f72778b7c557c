"""tf.data service (``data.service``): the command that starts a dispatcher and workers, dynamic sharding, what a
resumed run's pipeline does, and the setting it cannot keep (training on the service: test_train_distributed.py)."""

import subprocess
import sys

import pytest
import tensorflow as tf

from movenet_train.data import service
from movenet_train.data.config import data_config
from movenet_train.errors import UserError
from tests.data.conftest import compose_config
from tests.helpers import REPO, free_ports, wait_until


@pytest.mark.slow  # end to end: starts a dispatcher and a worker as subprocesses (about 14 s)
def test_servers_started_by_the_command_run_a_pipeline(tmp_path):
    dispatcher_port, worker_port = free_ports(2)
    command = [sys.executable, "-m", "movenet_train.data.service"]
    logs = [tmp_path / "dispatcher.log", tmp_path / "worker.log"]
    servers = []
    try:
        for log, args in zip(logs, [["dispatcher", "--port", str(dispatcher_port)],
                                    ["worker", "--dispatcher", f"grpc://localhost:{dispatcher_port}", "--port",
                                     str(worker_port)]]):
            with open(log, "w") as output:
                servers.append(subprocess.Popen(command + args, cwd=REPO, stdout=output, stderr=subprocess.STDOUT))
            assert wait_until(lambda: "tf.data service" in log.read_text(), servers, timeout=120), log.read_text()
        assert "train with data.service=grpc://" in logs[0].read_text()
        # Every element once: the dispatcher hands the source's elements to its worker (dynamic sharding).
        dataset = service.distribute(tf.data.Dataset.range(10).map(lambda x: x * x), f"localhost:{dispatcher_port}")
        assert sorted(int(x) for x in dataset) == [x * x for x in range(10)]
    finally:
        for server in servers:
            server.terminate()
            server.wait()


def test_a_resumed_run_on_the_service_starts_a_new_pass_seeded_with_its_step():
    data = compose_config("data=synthetic", "data.service=grpc://dispatcher:5050").data
    assert service.resumed_config(data, 0).loader.seed == data.loader.seed
    assert service.resumed_config(data, 1200).loader.seed == data.loader.seed + 1200
    assert service.resumed_config(data, 1200).service == "grpc://dispatcher:5050"
    assert data_config(compose_config("data=coco").data).service is None  # off by default


def test_deterministic_training_needs_the_pipeline_in_process(tmp_path):
    from movenet_train.training import build_training_run

    cfg = compose_config("data=synthetic", "data.service=grpc://dispatcher:5050", "train.deterministic=true",
                         f"output_dir={tmp_path}")
    with pytest.raises(UserError, match=r"train.deterministic=true needs the input pipeline in this process.*"
                                         r"data.service=null"):
        build_training_run(cfg)
