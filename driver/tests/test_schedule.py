"""The kernels start slowest first, by what they took last time."""
import json

from driver import schedule
from driver.kernels import known


def test_the_kernel_slowest_last_time_starts_first_and_an_untimed_one_by_its_time_scale(tmp_path):
    ks = known()
    (tmp_path / schedule.TIMES).write_text(json.dumps({"host": 2.0, "uml": 40.0, "gvisor": 90.0}))
    order = [k.name for k in schedule.slowest_first([ks["host"], ks["uml"], ks["gvisor"], ks["debian-6.12"]],
                                                   tmp_path)]
    assert [n for n in order if n != "debian-6.12"] == ["gvisor", "uml", "host"]
    guess = schedule.GUESS_S * ks["debian-6.12"].time_scale
    assert order.index("debian-6.12") == sum(t > guess for t in (2.0, 40.0, 90.0))


def test_a_bad_times_file_orders_by_time_scale_alone(tmp_path):
    ks = known()
    for text in ("{not json", "[1, 2]", json.dumps({"uml": "fast", "host": True, "gvisor": -5})):
        (tmp_path / schedule.TIMES).write_text(text)
        assert schedule.seen(tmp_path) == {}
        assert [k.name for k in schedule.slowest_first([ks["host"], ks["debian-6.12"]], tmp_path)] == \
            ["debian-6.12", "host"]


class Outcome:
    def __init__(self, kernel):
        self.kernel = kernel


def test_a_full_run_records_boot_plus_run_time_and_a_filtered_one_nothing(tmp_path):
    ran = [Outcome({"id": "uml", "status": "ran", "run_time_s": 30.0, "boot_s": 1.5}),
           Outcome({"id": "gvisor", "status": "miss"})]
    schedule.remember(ran, tmp_path, complete=False)
    assert not (tmp_path / schedule.TIMES).exists()
    schedule.remember(ran, tmp_path, complete=True)
    assert schedule.seen(tmp_path) == {"uml": 31.5}
    schedule.remember(ran, tmp_path / "absent", complete=True)   # no cache dir: nothing, no error
