"""kcidb.json: the results in KernelCI's KCIDB submission format, schema
v5.3 (the current one) by default or v4.3 on request: one checkout and
build per kernel, one test per case with a dotted path
(ipcproof.<area>.<case>), PASS/FAIL/ERROR/SKIP/MISS, and the kernel in
`environment`.

A declared divergence is `waived` in v4. v5 has no `waived`: KCIDB says
"known problem" with an issue and its incidents, so each declared
divergence is an issue (its reason as the comment) and each xfail or xpass
an incident of it, present for an xfail (the kernel diverged as declared),
absent for an xpass (it behaved after all)."""
import hashlib
import json

ORIGIN = "ipcproof"
SCHEMAS = ("v5", "v4")
VERSION = {"v5": {"major": 5, "minor": 3}, "v4": {"major": 4, "minor": 3}}
STATUS = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "timeout": "ERROR", "skip": "SKIP",
          "xfail": "FAIL", "xpass": "PASS"}


def kernel_key(k):
    return f"{ORIGIN}:{k['id']}"


def issue_key(reason):
    """Stable for as long as the declared reason stays the same."""
    return f"{ORIGIN}:divergence-{hashlib.sha256(reason.encode()).hexdigest()[:16]}"


def kernel_entries(k, key, v5):
    """The checkout and the build that stand for one kernel."""
    checkout = {"id": key, "origin": ORIGIN, "valid": True,
                "misc": {"release": k.get("release"), "version": k.get("version")}}
    build = {"id": key, "checkout_id": key, "origin": ORIGIN,
             "architecture": k.get("machine"), "misc": {"runner": k.get("runner")}}
    if v5:
        # The "build" stands for the kernel that ran: no result from it is MISS.
        build["status"] = "MISS" if k.get("status") == "miss" else "PASS"
    else:
        build["valid"] = True
    return checkout, build


def test_entry(k, key, env, claim, case, r, v5):
    area, _, name = case.partition("/")
    test = {"id": f"{key}:{case}", "build_id": key, "origin": ORIGIN,
            # a variant (case@fifo) is one more node of the path, which
            # allows only letters, digits, - and _ between the dots
            "path": f"{ORIGIN}.{area}.{name.replace('@', '.')}", "environment": env,
            "status": STATUS.get(r["status"], "ERROR") if r else "MISS",
            "misc": {"claim": claim}}
    if not v5:
        test["waived"] = bool(r and r["status"] in ("xfail", "xpass"))
    if r:
        test["duration"] = r.get("duration_s", 0.0)
        test["misc"].update(status=r["status"], evidence=r.get("evidence", {}), message=r.get("message", ""))
    return test


def incident(test, case, r, issues):
    """v5 has no waived flag: a declared divergence is an issue, each
    xfail or xpass of it an incident (present or not)."""
    reason = r.get("divergence") or "declared divergence"
    issue = issues.setdefault(reason, {"id": issue_key(reason), "version": 1, "origin": ORIGIN,
                                       "comment": reason, "misc": {"cases": []}})
    if case not in issue["misc"]["cases"]:
        issue["misc"]["cases"].append(case)
    return {"id": f"{test['id']}:{issue['id']}", "origin": ORIGIN, "issue_id": issue["id"],
            "issue_version": 1, "test_id": test["id"], "present": r["status"] == "xfail"}


def render(doc, schema="v5"):
    v5 = schema == "v5"
    checkouts, builds, tests, issues, incidents = [], [], [], {}, []
    claim_cases = [(c["id"], case) for c in doc["claims"] for case in c["cases"]]
    by_key = {(r["kernel"], r["case"]): r for r in doc["results"]}
    for k in doc["kernels"]:
        key = kernel_key(k)
        checkout, build = kernel_entries(k, key, v5)
        checkouts.append(checkout)
        builds.append(build)
        env = {"comment": f"{k['id']} ({k.get('runner', '?')}): Linux {k.get('release', '?')} {k.get('machine', '')}".strip(),
               "misc": {"page_size": k.get("page_size"), "kernel_id": k["id"]}}
        for claim, case in claim_cases:
            r = by_key.get((k["id"], case))
            tests.append(test_entry(k, key, env, claim, case, r, v5))
            if v5 and r and r["status"] in ("xfail", "xpass"):
                incidents.append(incident(tests[-1], case, r, issues))
    report = {"version": VERSION[schema], "checkouts": checkouts, "builds": builds, "tests": tests}
    if v5:
        report.update(issues=list(issues.values()), incidents=incidents)
    return json.dumps(report, indent=1, ensure_ascii=False) + "\n"
