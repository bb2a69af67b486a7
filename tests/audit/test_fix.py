"""--fix: the JSON Patches sent to the stand-in API server, byte for byte."""

from __future__ import annotations

from tests.audit import objects
from tests.audit.conftest import Audit
from tests.audit.standin import StandIn

TTL_PATCH = [
    {"op": "test", "path": "/metadata/resourceVersion", "value": "1001"},
    {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 259200},
]
CRONJOB_PATCH = [
    {"op": "test", "path": "/metadata/resourceVersion", "value": "300"},
    {"op": "add", "path": "/spec/jobTemplate/spec/completions", "value": 1},
    {"op": "add", "path": "/spec/jobTemplate/spec/parallelism", "value": 1},
]


def _setup(server: StandIn) -> None:
    server.state.add(objects.stored("job-ssa-job"))  # the stand-in gives it resourceVersion 1001
    server.state.add(objects.stored("cronjob-nightly-report"))  # resourceVersion 300
    server.state.add(objects.stored("job-pi"))  # has a TTL: nothing to do


def test_dry_run_prints_the_patches_and_sends_nothing(server: StandIn, audit: Audit) -> None:
    _setup(server)
    code, doc = audit.json("--fix")
    assert code == 0
    assert server.state.requests_to("PATCH", "") == []
    assert [(f["kind"], f["name"], f["outcome"], f["patch"]) for f in doc["fixes"]] == [
        ("CronJob", "nightly-report", "would patch", CRONJOB_PATCH),
        ("Job", "ssa-job", "would patch", TTL_PATCH),
    ]


def test_apply_sends_exact_json_patches(server: StandIn, audit: Audit) -> None:
    _setup(server)
    result = audit("--fix", "--apply")
    assert result.exit_code == 0, result.stdout
    patches = server.state.requests_to("PATCH", "")
    assert [(r.path, r.content_type, r.body) for r in patches] == [
        (
            "/apis/batch/v1/namespaces/batch-demo/cronjobs/nightly-report",
            "application/json-patch+json",
            CRONJOB_PATCH,
        ),
        (
            "/apis/batch/v1/namespaces/batch-demo/jobs/ssa-job",
            "application/json-patch+json",
            TTL_PATCH,
        ),
    ]
    job = server.state.objects[("jobs", "batch-demo", "ssa-job")]
    assert job["spec"]["ttlSecondsAfterFinished"] == 259200
    assert "fix Job batch-demo/ssa-job: patched" in result.stdout
    # What was fixed is clean now: a second audit finds nothing to patch.
    again = audit("--fix", "--apply", "--format", "json")
    assert again.exit_code == 0
    assert '"fixes": []' in again.stdout


def test_a_patch_planned_on_an_older_object_is_refused(server: StandIn, audit: Audit) -> None:
    server.state.add(objects.stored("job-ssa-job"))
    _, doc = audit.json("--fix")
    [plan] = doc["fixes"]
    assert plan["patch"] == TTL_PATCH
    stored = server.state.objects[("jobs", "batch-demo", "ssa-job")]
    stored["metadata"]["resourceVersion"] = "1500"  # someone changed the Job since the list
    from jobguard.audit.cluster import Cluster, ClusterError

    cluster = Cluster.connect(kubeconfig=str(audit.kubeconfig))
    try:
        cluster.patch_json("Job", "batch-demo", "ssa-job", plan["patch"])
    except ClusterError as exc:
        assert exc.status == 422
    else:
        raise AssertionError("a patch planned on an older object was applied")
    assert "ttlSecondsAfterFinished" not in stored["spec"]


def test_scheduled_jobs_are_left_to_their_cronjob(server: StandIn, audit: Audit) -> None:
    cronjob = objects.stored("cronjob-nightly-report")
    run = objects.scheduled(objects.without_ttl(objects.stored("job-pi")), cronjob, "nightly-1")
    server.state.add(run)
    # Its CronJob is not in the cluster: nothing shows the controller made it; fixed as any Job.
    _, doc = audit.json("--fix")
    assert [f["name"] for f in doc["fixes"]] == ["nightly-1"]
    server.state.add(cronjob)
    _, doc = audit.json("--fix")
    assert [f["name"] for f in doc["fixes"] if f["kind"] == "Job"] == []


def test_a_fix_to_an_immutable_job_field_is_left_out_and_reported(
    server: StandIn, audit: Audit
) -> None:
    # restartPolicy Always in a Job's template (the restart-policy rule's safe fix is Never):
    # the pod template of an existing Job cannot change, so only the TTL is patched.
    job = objects.without_ttl(objects.stored("job-pi"))
    job["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    server.state.add(job)
    cronjob = objects.stored("cronjob-nightly-report")
    cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    server.state.add(cronjob)
    result = audit("--fix", "--apply", "--format", "json")
    assert result.exit_code == 1  # the deny-level finding remains on the Job
    bodies = {r.path.rsplit("/", 1)[1]: r.body for r in server.state.requests_to("PATCH", "")}
    assert bodies == {
        "pi": [
            {"op": "test", "path": "/metadata/resourceVersion", "value": "298"},
            {"op": "add", "path": "/spec/ttlSecondsAfterFinished", "value": 259200},
        ],
        # A CronJob's template is not immutable: its next Jobs get the fix.
        "nightly-report": [
            {"op": "test", "path": "/metadata/resourceVersion", "value": "300"},
            {
                "op": "replace",
                "path": "/spec/jobTemplate/spec/template/spec/restartPolicy",
                "value": "Never",
            },
            {"op": "add", "path": "/spec/jobTemplate/spec/completions", "value": 1},
            {"op": "add", "path": "/spec/jobTemplate/spec/parallelism", "value": 1},
        ],
    }
    import json

    fixes = {f["name"]: f for f in json.loads(result.stdout)["fixes"]}
    assert fixes["pi"]["refused"] == [
        "restart-policy spec.template.spec.restartPolicy: not changed: spec.template cannot "
        "change on an existing Job (immutable)"
    ]
    assert fixes["pi"]["outcome"] == "patched"
