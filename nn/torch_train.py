"""`python -m nn train ... --backend torch [--workers N]`: the same training run, in PyTorch.

    >>> from nn.cli import build_parser
    >>> args = build_parser().parse_args(["train", "--dataset", "moons", "--epochs", "2",
    ...                                   "--no-progress"])
    >>> args.backend, args.workers = "torch", 1
    >>> train_torch(args)                                     # doctest: +ELLIPSIS
    moons: 400 train / 100 test samples; model 2-16-16-1 relu, ...; PyTorch in 1 process
    epoch 1/2  loss ...
    epoch 2/2  loss ...
    trained in ...
    test accuracy: 0...
    0

From a script, `workers > 1` starts processes with the spawn method, which imports the
script again in each of them: keep the call under `if __name__ == "__main__":`.

The recipe is `nn.train.fit`'s, step for step: the same model (`MLP(...)` with the same
seed, turned into float64 torch layers by `nn.to_torch`), the same data split, the same
shuffled minibatches (`nn.data.minibatches` with one `random.Random(seed)` for the run),
the mean of the batch's per-sample losses (cross-entropy, or binary cross-entropy on a
single logit), torch.optim's SGD (momentum, weight decay) or Adam, whose update rules
`nn.optim` follows, and the linear learning-rate decay set before each step. Only the
arithmetic is batched. Train accuracy counts the training forward passes' predictions, test
accuracy is measured after each epoch; the summary lines are `fit`'s.

With `workers > 1` this module starts N processes itself (torch.multiprocessing, spawn),
joined by `torch.distributed` (gloo, MASTER_ADDR=127.0.0.1, a free port) and wraps the
network in DistributedDataParallel. Each minibatch of the recipe is split between the
processes (process r takes samples r, r+N, ...), each divides its summed loss by
batch size / N, and DDP's averaging of the gradients then gives exactly the batch mean: N
workers train the same model as one, only faster (with batch size 1, all but one process idle).
At the end every process sends a SHA-256 of its weights; they must all be equal, or the run
fails. Rank 0 turns the network back into an MLP (`nn.from_torch`) and the parent saves it
with `model.save`, a file `MLP.load` reads.

Nothing waits forever: collectives time out after `COLLECTIVE_TIMEOUT` seconds, a process
that fails or dies makes the parent stop the others, and Ctrl-C stops them all.
"""
import datetime
import hashlib
import os
import random
import socket
import time

from autograd.torch_extra import require_torch

from .mlp import MLP
from .train import epoch_line, progress_bar

COLLECTIVE_TIMEOUT = 120     # seconds a process waits for the others at any collective
STOP_GRACE = 5               # seconds a stopped process gets before it is killed
MAX_WORKERS = 64
_TENSOR_LIMIT = 10_000_000   # floats: a dataset below this is converted to one tensor up front


def _print(line):
    print(line, flush=True)


def train_torch(args, say=None):
    """Run `nn train` with PyTorch; `args` is the parsed `nn train` namespace plus
    `backend` ("torch") and `workers` (a positive int). Reports like the scalar backend,
    through `say(line)` (default print; with several processes the first one prints its
    epoch lines itself) and returns the exit status (0)."""
    say = say or _print
    require_torch("--backend torch")
    from .cli import fill_defaults
    workers = getattr(args, "workers", 1)
    if type(workers) is not int or not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"--workers must be an int from 1 to {MAX_WORKERS}, got {workers!r}")
    if getattr(args, "live", None):
        raise ValueError("--live shows the scalar backend's training; it is not available "
                         "with --backend torch")
    fill_defaults(args)
    start = time.perf_counter()
    try:
        result = run(args, workers, say)
    except Interrupted as stop:
        from .cli import _save_interrupted
        return _save_interrupted(stop.model, stop, args)
    total = time.perf_counter() - start
    training = sum(r["seconds"] for r in result["history"])
    say(f"trained in {training:.1f}s (and {total - training:.1f}s starting "
        f"{'PyTorch' if workers == 1 else f'{workers} processes'} and loading the data)")
    if args.save:
        result["model"].save(args.save)
        say(f"saved model to {args.save}")
    say(f"test accuracy: {result['history'][-1]['test_accuracy']:.4f}")
    return 0


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during torch training: `.model` is the MLP as it was after the last finished
    epoch (`.epoch`, 0 if none; then `.state` is None)."""

    def __init__(self, model, epoch, state):
        super().__init__(f"interrupted after epoch {epoch}")
        self.model, self.epoch, self.state = model, epoch, state


def run(args, workers=1, say=_print):
    """Train as `train_torch` does (defaults already filled in) and return a dict: the
    trained `model` (an MLP), the `history` (one dict per epoch, as `fit` returns) and the
    `checksums` of the weights each process ended with. Ctrl-C raises `Interrupted`."""
    inbox = _Inbox()
    if workers == 1:
        try:
            return _train(0, 1, args, say=say, report=inbox.take)
        except KeyboardInterrupt:
            raise inbox.interrupted() from None
    from multiprocessing.connection import wait
    torch = require_torch("--workers")
    mp = torch.multiprocessing
    port = _free_port()
    # One pipe per process (no locks or semaphores to leak when a process is stopped).
    pipes = [mp.get_context("spawn").Pipe(duplex=False) for _ in range(workers)]
    readers = [r for r, _ in pipes]
    try:
        context = mp.start_processes(_worker, args=(workers, port, args, [w for _, w in pipes]),
                                     nprocs=workers, join=False, start_method="spawn")
    finally:
        for _, w in pipes:
            w.close()  # the processes hold their own copies
    try:
        # Wake up for a message or a process exit, whichever comes first: join() raises as
        # soon as one process fails (after stopping the others), and a message is read at
        # once, so its sender never waits on a full pipe.
        while True:
            inbox.drain(readers)
            if context.join(timeout=0):
                inbox.drain(readers)
                break
            wait([r for r in readers if not r.closed] + list(context.sentinels), timeout=5)
    except (mp.ProcessRaisedException, mp.ProcessExitedException):
        _stop(context.processes)
        inbox.drain(readers)
        if inbox.error is None:
            raise
        raise inbox.error from None
    except KeyboardInterrupt:
        _stop(context.processes)
        inbox.drain(readers)
        raise inbox.interrupted() from None
    except BaseException:
        _stop(context.processes)
        raise
    finally:
        for r in readers:
            r.close()
    if inbox.result is None:
        raise RuntimeError("torch training: the workers exited without a result")
    result = inbox.result
    result["model"] = _model(result.pop("config"), result.pop("state"))
    return result


def _model(config, state):
    model = MLP(**config)
    model.load_state_dict(state)
    return model


class _Inbox:
    """What the first process reports: the model after each epoch, the result, and the
    first error any process reported (as the exception to raise here: the kinds the CLI
    reports as such keep their kind)."""

    def __init__(self):
        self.result = self.error = self.last = None

    def drain(self, readers):
        for r in readers:
            try:
                while not r.closed and r.poll():
                    self.take(r.recv())
            except (EOFError, OSError):  # that process has exited and said all it had to
                r.close()

    def take(self, message):
        if "epoch" in message:
            self.last = message
        elif "error" in message:
            if self.error is None:
                rank, kind, text = message["error"]
                cls = {"ValueError": ValueError, "OSError": OSError,
                       "ImportError": ImportError}.get(kind)
                self.error = (cls(text) if cls else
                              RuntimeError(f"torch training, process {rank}: {kind}: {text}"))
        else:
            self.result = message

    def interrupted(self):
        if self.last is None:
            return Interrupted(None, 0, None)
        model = _model(self.last["config"], self.last["state"])
        return Interrupted(model, self.last["epoch"], self.last["state"])


def _stop(processes):
    for p in processes:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join(STOP_GRACE)


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank, world, port, args, pipes):
    send = pipes[rank].send
    try:
        result = _train(rank, world, args, port, report=send)
    except BaseException as e:
        kind = next((k.__name__ for k in type(e).__mro__
                     if k in (ValueError, OSError, ImportError)), type(e).__name__)
        send({"error": (rank, kind, str(e))})
        raise
    if rank == 0:
        model = result.pop("model")
        send({**result, "config": model.config(), "state": model.state_dict()})


def _data(args):
    from .cli import split_data
    Xtr, ytr, Xte, yte, n_out = split_data(args)
    if not len(Xtr):
        raise ValueError("torch training: the training split is empty")
    return Xtr, ytr, Xte, yte, n_out


class _Rows:
    """Samples as float64 tensors: all at once for a small dataset, else row by row when
    asked (Fashion-MNIST as one float64 tensor would be 376 MB per process)."""

    def __init__(self, torch, X):
        self.torch, self.X = torch, X
        self.whole = None
        if len(X) * len(X[0]) <= _TENSOR_LIMIT:
            self.whole = torch.tensor(X if isinstance(X, list) else list(X), dtype=torch.float64)

    def __call__(self, idx):
        if self.whole is not None:
            return self.whole[idx]
        return self.torch.tensor([self.X[i] for i in idx], dtype=self.torch.float64).reshape(
            len(idx), len(self.X[0]))


def _train(rank, world, args, port=None, say=_print, report=None):
    """One process's run; the first process passes `report` a message after each epoch
    (the model's config and numbers)."""
    torch = require_torch("--backend torch")
    # One thread per process: these layers are far too small for intra-op threads to pay
    # (a digits step took 5 ms on one thread, 127-270 ms on two on a busy 2-core machine);
    # processes are the parallelism (--workers).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_process(torch, rank, world, args, port, say, report)
    finally:
        torch.set_num_threads(threads)  # the caller's setting, when this is the caller's process


def _run_process(torch, rank, world, args, port, say, report):
    import torch.nn.functional as F

    from .data import minibatches
    from .torch_bridge import from_torch, to_torch

    Xtr, ytr, Xte, yte, n_out = _data(args)
    nin = len(Xtr[0])
    model = MLP(nin, args.layers + [n_out], activation=args.activation, init=args.init,
                seed=args.seed, fused=not getattr(args, "unfused", False))
    net = to_torch(model)
    if rank == 0:
        say(_header(args, world, Xtr, Xte, nin, n_out, model))
    distributed = world > 1
    if distributed:
        import torch.distributed as dist
        os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                world_size=world,
                                timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT))
    try:
        trained = torch.nn.parallel.DistributedDataParallel(net) if distributed else net

        def snapshot(epoch):
            if rank == 0 and report is not None:
                m = from_torch(net, init=args.init, fused=model.fused)
                report({"epoch": epoch, "config": m.config(), "state": m.state_dict()})

        history = _epochs(torch, F, trained, net, args, rank, world, Xtr, ytr, Xte, yte, n_out,
                          minibatches, say, snapshot)
        checksum = _checksum(net)
        checksums = [checksum]
        if distributed:
            checksums = [None] * world
            dist.all_gather_object(checksums, checksum)
        if len(set(checksums)) != 1:
            raise RuntimeError("torch training: the processes ended with different weights: "
                               + ", ".join(f"rank {r} {c[:12]}" for r, c in enumerate(checksums)))
    finally:
        if distributed:
            dist.destroy_process_group()
    trained_model = from_torch(net, init=args.init, fused=not getattr(args, "unfused", False))
    return {"model": trained_model, "history": history, "checksums": checksums}


def _header(args, world, Xtr, Xte, nin, n_out, model):
    """The scalar backend's first line, and the backend."""
    from .cli import recipe_line
    return (recipe_line(args, len(Xtr), len(Xte), nin, n_out, len(model.parameters()))
            + f"; PyTorch {'in 1 process' if world == 1 else f'in {world} processes (DDP, gloo)'}")


def _checksum(net):
    h = hashlib.sha256()
    for name, p in net.state_dict().items():
        h.update(name.encode())
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _epochs(torch, F, trained, net, args, rank, world, Xtr, ytr, Xte, yte, n_out, minibatches,
            say, snapshot):
    tqdm = progress_bar()
    if world > 1:
        # tqdm's default lock is a multiprocessing semaphore, which a stopped process would
        # leak (and the resource tracker then warn about); one process needs a thread lock.
        import threading
        tqdm.set_lock(threading.RLock())
    params = list(net.parameters())
    if args.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=args.lr, momentum=args.momentum,
                              weight_decay=args.weight_decay)
    elif args.optimizer == "adam":
        opt = torch.optim.Adam(params, lr=args.lr, weight_decay=args.weight_decay)
    else:
        raise ValueError(f"unknown optimizer {args.optimizer!r}; choose 'sgd' or 'adam'")
    if args.lr_decay not in (None, "none", "linear"):
        raise ValueError(f"lr_decay must be 'none' or 'linear', got {args.lr_decay!r}")
    rows, labels = _Rows(torch, Xtr), torch.tensor(ytr)
    test_set = (_Rows(torch, Xte), torch.tensor(yte)) if Xte is not None and len(Xte) else None
    n = len(Xtr)
    rng = random.Random(args.seed)
    n_batches = -(-n // args.batch_size)
    steps, step = args.epochs * n_batches, 0
    lead = rank == 0
    log = say if lead else None
    history = []
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        trained.train()
        # [loss sum, correct]: this process's share, summed over processes at the end
        totals = torch.zeros(2, dtype=torch.float64)
        bar = tqdm(minibatches(list(range(n)), ytr, args.batch_size, seed=rng), total=n_batches,
                   desc=f"epoch {epoch}/{args.epochs}", unit="batch",
                   disable=args.no_progress or not lead, leave=False, dynamic_ncols=True)
        for i, (idx, _) in enumerate(bar):
            batch_size = len(idx)
            mine = idx[rank::world]
            out = trained(rows(mine))
            y = labels[mine]
            loss_sum, correct = _loss_and_correct(torch, F, out, y, n_out)
            totals[0] += loss_sum.detach()
            totals[1] += correct
            opt.zero_grad()
            # DDP averages over processes; scaling by world / batch size makes that the
            # mean over the whole batch, as the scalar backend's one graph per batch.
            (loss_sum / (batch_size / world)).backward()
            if args.lr_decay == "linear":
                for g in opt.param_groups:
                    g["lr"] = args.lr * (1.0 - step / steps)
            step += 1
            opt.step()
            if lead and not args.no_progress and i % 20 == 0:
                bar.set_postfix(loss=f"{loss_sum.item() / max(1, len(mine)):.4f}", refresh=False)
        bar.close()
        if world > 1:
            import torch.distributed as dist
            dist.all_reduce(totals)
        test_acc = _accuracy(torch, net, *test_set, n_out) if test_set is not None else None
        record = {"epoch": epoch, "loss": totals[0].item() / n,
                  "train_accuracy": totals[1].item() / n, "test_accuracy": test_acc,
                  "seconds": time.perf_counter() - start}
        history.append(record)
        snapshot(epoch)
        if log is not None:
            log(epoch_line(record, args.epochs))
    return history


def _loss_and_correct(torch, F, out, y, n_out):
    """Summed per-sample loss of a batch and how many predictions were right."""
    if n_out > 1:
        loss = F.cross_entropy(out, y, reduction="sum")
        correct = (out.detach().argmax(dim=1) == y).sum().item()
    else:
        z = out[:, 0]
        loss = F.binary_cross_entropy_with_logits(z, y.to(torch.float64), reduction="sum")
        correct = ((z.detach() > 0).long() == y).sum().item()
    return loss, correct


def _accuracy(torch, net, rows, labels, n_out, chunk=2000):
    """Fraction of the samples classified correctly, as `nn.train.accuracy` counts it."""
    n = len(labels)
    correct = 0
    with torch.no_grad():
        for s in range(0, n, chunk):
            idx = list(range(s, min(s + chunk, n)))
            out = net(rows(idx))
            pred = out.argmax(dim=1) if n_out > 1 else (out[:, 0] > 0).long()
            correct += (pred == labels[idx]).sum().item()
    return correct / n
