"""`opensupport bench codec` on a small real corpus: every key of the report, with numbers, and a harness
that notices a codec that is not lossless."""

import json
import math
import textwrap

import pytest
from opensupport.benchmarks import codec as bench
from opensupport.benchmarks.corpus import Manifest
from opensupport.benchmarks.record import SCENARIOS

pytestmark = pytest.mark.xvfb

STATS = {"median", "p95", "mean", "wall_median"}
PEER_KEYS = {"encode_ms", "decode_ms", "kib_per_frame", "keyframe_kib", "keyframe_encode_ms", "psnr_db"}
OURS_KEYS = {
    "encode_ms",
    "decode_ms",
    "kib_per_frame",
    "keyframe_kib",
    "keyframe_encode_ms",
    "lossless",
    "lossless_frames",
    "unchanged_exact",
    "unchanged_encode_ms",
    "unchanged_bytes",
    "quality",
    "lossy_updates",
}
#: with a region (the video scenario): how exact the text beside it is and how good the video is
REGION_KEYS = {"exact_outside_frames", "region_psnr_db"}
RATIOS = {
    "encode_vs_x264",
    "encode_vs_vp9",
    "kib_vs_x264",
    "kib_vs_vp9",
    "decode_vs_x264",
    "unchanged_vs_memcmp",
}


def _number(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
    )


def _run_json(capsys, argv: list[str]) -> dict:
    assert bench.main([*argv, "--json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_report_has_every_key_with_numbers(small_corpus, capsys) -> None:
    report = _run_json(capsys, ["--corpus", str(small_corpus.path)])
    assert report["pinned"] is True and isinstance(report["cpu"], int)
    assert set(report["scenarios"]) == set(SCENARIOS)
    for name, res in report["scenarios"].items():
        lossy = name == "video"
        assert res["frames"] == small_corpus.frames and res["target"] is True
        assert set(res["ours"]) == OURS_KEYS | (REGION_KEYS if lossy else set())
        assert res["ours"]["quality"] == ("BALANCED" if lossy else "LOSSLESS")
        for codec in ("ours", "x264", "vp9"):
            if codec != "ours":
                assert set(res[codec]) == PEER_KEYS | ({"region_psnr_db"} if lossy else set())
                # A lossy peer that decodes to something like the frame, not garbage.
                assert 25 < res[codec]["psnr_db"] <= 100, (name, codec)
            for key in ("encode_ms", "decode_ms"):
                assert set(res[codec][key]) == STATS
                assert all(_number(v) for v in res[codec][key].values())
            assert res[codec]["keyframe_kib"] > 0 and _number(res[codec]["kib_per_frame"])
        assert set(res["ratios"]) == RATIOS and all(_number(v) for v in res["ratios"].values())
        assert _number(res["memcmp_ms"]) and res["memcmp_ms"] > 0
        if lossy:
            # The video is sent lossy; everything beside it is exact in every frame (bytes compared).
            x, y, w, h = res["region"]
            assert w > 0 and h > 0 and x + w <= res["width"] and y + h <= res["height"]
            assert res["ours"]["lossy_updates"] >= 1
            assert res["ours"]["exact_outside_frames"] == res["frames"]
            assert res["targets"]["text_exact"]["pass"] is True
            assert 25 < res["ours"]["region_psnr_db"] <= 100
            assert set(res["targets"]) == {
                "text_exact",
                "video_size",
                "video_psnr",
                "video_encode",
                "unchanged",
            }
            assert res["targets"]["video_psnr"]["at_least"] is True
            continue
        # Our codec is lossless on every recorded frame: the decoded framebuffer equals it in B, G, R.
        assert res["region"] is None and res["ours"]["lossy_updates"] == 0
        assert res["ours"]["lossless"] is True and res["ours"]["lossless_frames"] == res["frames"]
        assert res["targets"]["lossless"]["pass"] is True
        expected = {"lossless", "encode", "size", "unchanged", "decode"}
        expected |= {
            "terminal-typing": {"keystroke"},
            "pager-scroll": {"line_scroll"},
            "window-drag": {"drag"},
        }.get(name, set())
        assert set(res["targets"]) == expected
        for target in res["targets"].values():
            assert target["at_least"] is False and target["pass"] == (target["value"] <= target["limit"])
    assert report["targets_passed"] + report["targets_failed"] == sum(
        len(r["targets"]) for r in report["scenarios"].values()
    )
    typing = report["scenarios"]["terminal-typing"]["focus"]
    assert typing["keystroke_frames"] >= 3 and typing["keystroke_kib"] > 0


def test_table_names_every_scenario_and_target(small_corpus, capsys) -> None:
    assert (
        bench.main(["--corpus", str(small_corpus.path), "--scenarios", "terminal-typing", "--frames", "3"])
        == 0
    )
    out = capsys.readouterr().out
    assert "terminal-typing" in out and "x264" in out and "vp9" in out and "memcmp" in out
    assert "keystroke" in out and ("PASS" in out or "FAIL" in out)


def test_a_codec_that_is_not_lossless_is_caught(small_corpus, capsys, tmp_path, monkeypatch) -> None:
    # The real codec with one bit of green flipped in every decoded frame.
    (tmp_path / "off_by_one_codec.py").write_text(
        textwrap.dedent(
            """
            import opensupport.codec as real
            Encoder = real.Encoder

            class Decoder(real.Decoder):
                def decode(self, data):
                    framebuffer, rects = super().decode(data)
                    framebuffer[0, 0, 1] ^= 1
                    return framebuffer, rects
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    argv = ["--corpus", str(small_corpus.path), "--scenarios", "pager-scroll", "--codec", "off_by_one_codec"]
    res = _run_json(capsys, argv)["scenarios"]["pager-scroll"]
    assert res["ours"]["lossless"] is False
    assert res["targets"]["lossless"]["pass"] is False


def test_unknown_scenario_and_missing_corpus_are_clear_errors(small_corpus, tmp_path, capsys) -> None:
    assert bench.main(["--corpus", str(small_corpus.path), "--scenarios", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
    assert bench.main(["--corpus", str(tmp_path / "none")]) == 2
    assert "bench record" in capsys.readouterr().err


def test_focus_figures_pick_the_frames_the_targets_name() -> None:
    actions = ["start", "char:a", "char: ", "key:Return", "char:b"]
    manifest = Manifest("terminal-typing", "", 8, 8, 30.0, len(actions), actions)
    focus = bench.focus_figures(manifest, [9999, 100, 5000, 7000, 300])
    # Only the frames where a visible character appeared: 100 and 300 bytes.
    assert focus["keystroke_frames"] == 2
    assert focus["keystroke_kib"] == pytest.approx(200 / 1024)
    assert focus["keystroke_kib_max"] == pytest.approx(300 / 1024)
    pager = Manifest("pager-scroll", "", 8, 8, 30.0, 4, ["start", "lines:1", "page", "lines:3"])
    assert bench.focus_figures(pager, [1, 1024, 99999, 3072]) == {
        "line_scroll_kib": 2.0,
        "line_scroll_frames": 2,
    }
