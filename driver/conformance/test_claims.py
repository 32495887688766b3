"""Each claim of the catalog, on each kernel: its cases behave as the
catalog's truth says (or as a declared divergence says)."""
import pytest


def test_claim(doc, kernel, claim):
    facts = next((k for k in doc["kernels"] if k["id"] == kernel), None)
    assert facts is not None, f"{kernel} is not in the results"
    if facts.get("status") == "miss":
        pytest.fail(f"{kernel} gave no results: {facts.get('miss_reason')}", pytrace=False)
    got = [r for r in doc["results"] if r["kernel"] == kernel and r["claim"] == claim["id"]]
    assert got, f"no case of {claim['id']} ran on {kernel}"
    wrong = [r for r in got if r["status"] not in ("pass", "skip", "xfail", "xpass")]
    if wrong:
        lines = [f"{r['case']}: {r['status']}: {r['message']}" for r in wrong]
        lines += [f"  evidence {k}={v}" for r in wrong for k, v in r.get("evidence", {}).items()]
        pytest.fail(f"{claim['truth']}\n" + "\n".join(lines), pytrace=False)
    declared = [r for r in got if r["status"] == "xfail"]
    if declared:
        pytest.xfail(declared[0].get("divergence", "declared divergence"))
    if all(r["status"] == "skip" for r in got):
        pytest.skip("every case skipped on this kernel")
