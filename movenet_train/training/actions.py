"""Orbit train actions of a training run: the progress bar and the stop on a NaN/inf loss."""

import math


class TrainingDiverged(RuntimeError):
    pass


class ProgressBar:
    """Orbit train action: a tqdm bar with loss, learning rate and ETA."""

    def __init__(self, global_step, total_steps, enabled=True):
        self.global_step, self.total_steps, self.enabled = global_step, total_steps, enabled
        self.bar = None

    def start(self):
        """Called once the checkpoint is restored, so a resumed run's bar starts at its step."""
        from tqdm import tqdm

        self.bar = tqdm(total=self.total_steps, initial=int(self.global_step.numpy()), desc="train", unit="step",
                        disable=not self.enabled, dynamic_ncols=True)

    def __call__(self, output):
        step = int(self.global_step.numpy())
        self.bar.update(step - self.bar.n)
        self.bar.set_postfix(loss=f"{float(output['loss/total']):.4f}", lr=f"{float(output['learning_rate']):.2e}",
                             img_s=f"{float(output['images_per_second']):.1f}")

    def close(self):
        if self.bar is not None:
            self.bar.close()


class NonFiniteLossGuard:
    """Orbit train action, run before Orbit saves: stops on a NaN/inf loss, naming the last good checkpoint."""

    def __init__(self, global_step, manager):
        self.global_step, self.manager = global_step, manager

    def __call__(self, output):
        loss = float(output["loss/total"])
        if not math.isfinite(loss):
            raise TrainingDiverged(
                f"loss is {loss} at step {int(self.global_step.numpy())}; stopping. Last good checkpoint: "
                f"{self.manager.latest_checkpoint or 'none (the run had not saved one yet)'}"
            )
