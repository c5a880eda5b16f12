"""Schemathesis hooks for scripts/fuzz-api.sh (loaded through SCHEMATHESIS_HOOKS).

The fuzzer signs in as an administrator, an operator and a viewer. Resetting a user's
password, changing their role or disabled flag, or deleting them ends that user's sessions:
one such request aimed at a fuzzing identity would turn the rest of the run into 401s. Those
operations are still fuzzed, but a request that names a fuzzing identity's user id is sent
to a stand-in user instead. This happens in `before_call`, just before the request leaves,
so it covers every phase (examples, coverage, fuzzing, and stateful links that carry ids
from earlier answers).

A list's `cursor` is opaque: the only valid ones are those a previous page handed out, and
any other answers 400. A generated cursor is therefore dropped from requests meant to be
valid (positive cases), so that positive_data_acceptance judges the rest of the request;
requests meant to be invalid keep theirs and must still be refused.

Environment: GARRISON_FUZZ_PROTECTED_USERS (comma-separated user ids that must keep their
sessions), GARRISON_FUZZ_STANDIN_USER (the user id that takes their place).
"""

import os
import re

import schemathesis
from schemathesis import GenerationMode

PROTECTED = {int(i) for i in os.environ["GARRISON_FUZZ_PROTECTED_USERS"].split(",")}
STANDIN = int(os.environ["GARRISON_FUZZ_STANDIN_USER"])

# (method, path below /api/v1) of every operation that ends the sessions of the user it names.
SESSION_ENDING = {
    ("POST", "/users/{id}/password"),
    ("PATCH", "/users/{id}"),
    ("DELETE", "/users/{id}"),
}


def _user_id(value):
    """The user id the host reads from a path segment (it parses `+1` and `007` too)."""
    match = re.fullmatch(r"\+?(\d{1,18})", str(value))
    return int(match.group(1)) if match else None


@schemathesis.hook
def before_call(context, case, kwargs):
    path = case.operation.path.removeprefix("/api/v1")
    if (case.method.upper(), path) in SESSION_ENDING:
        if _user_id(case.path_parameters.get("id")) in PROTECTED:
            case.path_parameters["id"] = STANDIN
    positive = case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
    if positive and case.query and "cursor" in case.query:
        del case.query["cursor"]
    if positive and case.body is not None:
        case.body = _whole_numbers(case.body)


def _whole_numbers(value):
    """`25.0` → `25`, in a body meant to be valid.

    JSON Schema's `integer` admits a number with a zero fraction; the host reads integers
    strictly (serde refuses `25.0` for a `u32` with a 400). No client generated from the
    document sends one (Python's and TypeScript's integers serialise without a fraction), so
    this is the one place the fuzzer's reading of `integer` and the host's differ on purpose;
    it is recorded in issue 13's note. Requests meant to be invalid are left as generated.
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, list):
        return [_whole_numbers(item) for item in value]
    if isinstance(value, dict):
        return {key: _whole_numbers(item) for key, item in value.items()}
    return value
