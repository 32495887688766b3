"""kcidb.json: the results in KernelCI's KCIDB submission format (schema v4):
one checkout and build per kernel, one test per case with a dotted path
(ipcproof.<area>.<case>), PASS/FAIL/ERROR/SKIP/MISS, and the kernel in
`environment`."""
import json

ORIGIN = "ipcproof"
STATUS = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "timeout": "ERROR", "skip": "SKIP",
          "xfail": "FAIL", "xpass": "PASS"}


def kernel_key(k):
    return f"{ORIGIN}:{k['id']}"


def render(doc):
    checkouts, builds, tests = [], [], []
    claim_cases = [(c["id"], case) for c in doc["claims"] for case in c["cases"]]
    by_key = {(r["kernel"], r["case"]): r for r in doc["results"]}
    for k in doc["kernels"]:
        key = kernel_key(k)
        checkouts.append({"id": key, "origin": ORIGIN, "valid": True,
                          "misc": {"release": k.get("release"), "version": k.get("version")}})
        builds.append({"id": key, "checkout_id": key, "origin": ORIGIN, "valid": True,
                       "architecture": k.get("machine"), "misc": {"runner": k.get("runner")}})
        env = {"comment": f"{k['id']} ({k.get('runner', '?')}): Linux {k.get('release', '?')} {k.get('machine', '')}".strip(),
               "misc": {"page_size": k.get("page_size"), "kernel_id": k["id"]}}
        for claim, case in claim_cases:
            r = by_key.get((k["id"], case))
            area, _, name = case.partition("/")
            test = {"id": f"{key}:{case}", "build_id": key, "origin": ORIGIN,
                    "path": f"{ORIGIN}.{area}.{name}", "environment": env,
                    "status": STATUS.get(r["status"], "ERROR") if r else "MISS",
                    "waived": bool(r and r["status"] in ("xfail", "xpass")),
                    "misc": {"claim": claim}}
            if r:
                test["duration"] = r.get("duration_s", 0.0)
                test["misc"].update(status=r["status"], evidence=r.get("evidence", {}),
                                    message=r.get("message", ""))
            tests.append(test)
    report = {"version": {"major": 4, "minor": 3}, "checkouts": checkouts, "builds": builds, "tests": tests}
    return json.dumps(report, indent=1, ensure_ascii=False) + "\n"
