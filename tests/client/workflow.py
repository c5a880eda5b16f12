"""A hosted-panel operator's workflow, through a Python client generated from the live
OpenAPI document (openapi-python-client) and nothing else: no raw HTTP, no casts, no reaching
into untyped objects. scripts/client-roundtrip.sh generates the package `garrison_api_client`,
type-checks this file against it (mypy --strict) and runs it against a host whose Left 4 Dead 2
install is the game-server simulator, with three players on.

The client raises on any status the document does not declare
(`raise_on_unexpected_status=True`); a declared error answers a `Problem`, which fails the
step with its detail.

Environment: GARRISON_URL (the host's base URL), GARRISON_ADMIN_PASSWORD (the generated
administrator's password), GARRISON_GAME_PORT (a free TCP port for the game and its RCON).
"""

import os
import sys
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import TypeVar

from garrison_api_client import AuthenticatedClient, Client
from garrison_api_client.api.api_keys import api_keys_create, api_keys_revoke
from garrison_api_client.api.audit import audit_list
from garrison_api_client.api.auth import auth_change_password, auth_login, auth_me
from garrison_api_client.api.jobs import jobs_get
from garrison_api_client.api.players import players_kick, players_online
from garrison_api_client.api.servers import (
    servers_action,
    servers_create,
    servers_delete,
    servers_get,
    servers_logs,
)
from garrison_api_client.models import (
    Action,
    Job,
    JobKind,
    JobState,
    LoginRequest,
    NewApiKeyRequest,
    NewServerRequest,
    NewServerRequestSettings,
    PasswordChange,
    PlayerAction,
    Problem,
    Role,
)
from garrison_api_client.types import UNSET, Unset

T = TypeVar("T")

BASE_URL = os.environ["GARRISON_URL"]
GAME_PORT = int(os.environ["GARRISON_GAME_PORT"])
# Long enough for a busy CI machine; every wait fails saying what it waited for.
PATIENCE = 90.0


class StepFailed(Exception):
    """A step got something other than what the document promises."""


def answered(answer: T | Problem | None, step: str) -> T:
    """The success answer of a call, or the step fails with the problem."""
    if isinstance(answer, Problem):
        raise StepFailed(f"{step}: {answer.status} {answer.title}: {answer.detail}")
    if answer is None:
        raise StepFailed(f"{step}: no answer body")
    return answer


def job_of(answer: object, step: str) -> Job:
    """The job an action or a delete queued; anything else fails the step."""
    if isinstance(answer, Job):
        return answer
    raise StepFailed(f"{step}: expected the queued Job, got {answer!r}")


def wait_for(step: str, probe: Callable[[], T | None]) -> T:
    """Calls `probe` until it answers something, for at most PATIENCE seconds."""
    deadline = time.monotonic() + PATIENCE
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise StepFailed(f"{step}: not within {PATIENCE:.0f} s")
        time.sleep(0.25)


def say(text: str) -> None:
    print(f"  {text}", flush=True)


def follow(client: AuthenticatedClient, job: Job, step: str) -> Job:
    """Polls the job until it has ended; fails unless it succeeded."""
    ended = (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)

    def finished() -> Job | None:
        now = answered(jobs_get.sync(job.id, client=client), f"{step}: job {job.id}")
        return now if now.state in ended else None

    done = wait_for(f"{step}: job {job.id} to end", finished)
    if done.state != JobState.SUCCEEDED:
        raise StepFailed(f"{step}: job {done.id} ended {done.state.value}: {done.error!r}")
    say(f"job {done.id} ({done.kind.value}) {done.state.value}")
    return done


def main() -> None:
    anonymous = Client(base_url=BASE_URL, raise_on_unexpected_status=True)

    print("sign in as the generated administrator and choose a password")
    first_password = os.environ["GARRISON_ADMIN_PASSWORD"]
    login = LoginRequest(username="admin", password=first_password)
    session = answered(auth_login.sync(client=anonymous, body=login), "sign in")
    signed_in = AuthenticatedClient(
        base_url=BASE_URL, token=session.token, raise_on_unexpected_status=True
    )
    me = answered(auth_me.sync(client=signed_in), "who am I")
    if me.role != Role.ADMIN or not me.password_change_required:
        raise StepFailed(f"the generated administrator: {me!r}")
    change = PasswordChange(current_password=first_password, new_password="round-trip-password")
    session = answered(
        auth_change_password.sync(client=signed_in, body=change), "change the password"
    )
    signed_in = AuthenticatedClient(
        base_url=BASE_URL, token=session.token, raise_on_unexpected_status=True
    )
    say(f"signed in as {session.user.username}, session until {session.expires_at}")

    print("make an API key and use it from now on")
    created = answered(
        api_keys_create.sync(
            client=signed_in, body=NewApiKeyRequest(name="round trip", role=Role.ADMIN)
        ),
        "create an API key",
    )
    client = AuthenticatedClient(
        base_url=BASE_URL, token=created.key, raise_on_unexpected_status=True
    )
    me = answered(auth_me.sync(client=client), "who am I with the key")
    if me.api_key_id != created.api_key.id or me.effective_role != Role.ADMIN:
        raise StepFailed(f"the key {created.api_key.id} acts as {me!r}")
    say(f"key {created.api_key.id} ({created.api_key.name!r}) acts as {me.effective_role.value}")

    print("create a Left 4 Dead 2 server")
    # A game's settings are the adapter's own form (GET /adapters/{id}): field keys to values.
    settings = NewServerRequestSettings.from_dict(
        {"hostname": "Garrison round trip", "port": GAME_PORT, "rcon_password": "round-trip"}
    )
    server = answered(
        servers_create.sync(
            client=client,
            body=NewServerRequest(name="Round trip", adapter="l4d2", settings=settings),
        ),
        "create a server",
    )
    say(f"server {server.id} {server.name!r} is {server.actual_state}")

    print("start it and follow the job")
    start = job_of(servers_action.sync(server.id, Action.START, client=client), "start")
    if start.kind != JobKind.START or start.server_id != server.id:
        raise StepFailed(f"start queued {start!r}")
    follow(client, start, "start")

    def running() -> str | None:
        now = answered(servers_get.sync(server.id, client=client), "read the server")
        return now.actual_state if now.actual_state == "running" else None

    say(f"server {server.id} is {wait_for('the server to run', running)}")

    print("read the players and the log")

    def players_on() -> list[tuple[str, str]] | None:
        view = answered(players_online.sync(server.id, client=client), "players")
        return [(player.key, player.name) for player in view.online] or None

    online = wait_for("players on the server", players_on)
    say(f"{len(online)} players on: {', '.join(name for _, name in online)}")

    def some_lines() -> list[tuple[int, str]] | None:
        page = answered(servers_logs.sync(server.id, client=client, limit=20), "log")
        return [(line.seq, line.text) for line in page.items] or None

    lines = wait_for("log lines", some_lines)
    say(f"{len(lines)} log lines, the newest: {max(lines)!r}")

    print("kick a player")
    key, name = online[0]
    kicked = players_kick.sync_detailed(
        server.id, key, client=client, body=PlayerAction(reason="round trip")
    )
    if kicked.status_code != HTTPStatus.NO_CONTENT:
        raise StepFailed(f"kick answered {kicked.status_code}: {kicked.parsed!r}")

    def gone() -> bool | None:
        return True if key not in [k for k, _ in players_on() or []] else None

    wait_for(f"{name} to leave after the kick", gone)
    say(f"kicked {name}")

    print("page through the audit log")
    actions: list[str] = []
    pages = 0
    cursor: str | Unset = UNSET
    while True:
        page = answered(audit_list.sync(client=client, limit=3, cursor=cursor), "audit")
        pages += 1
        actions.extend(entry.action for entry in page.items)
        if not isinstance(page.next_cursor, str):
            break
        cursor = page.next_cursor
    kick_path = f"/servers/{server.id}/players/"
    if not any(kick_path in action and action.endswith("/kick") for action in actions):
        raise StepFailed(f"the audit log lacks the kick: {actions}")
    say(f"{len(actions)} audit entries on {pages} pages")

    print("stop the server, delete it and follow both jobs")
    stop = job_of(servers_action.sync(server.id, Action.STOP, client=client), "stop")
    follow(client, stop, "stop")
    delete = job_of(servers_delete.sync(server.id, client=client), "delete")
    if delete.kind != JobKind.DELETE:
        raise StepFailed(f"delete queued {delete!r}")
    follow(client, delete, "delete")
    # A panel shows finished jobs later on too.
    again = answered(jobs_get.sync(delete.id, client=client), "the delete job, once finished")
    say(f"job {again.id} still reads {again.state.value}")

    print("revoke the API key")
    revoked = api_keys_revoke.sync_detailed(created.api_key.id, client=signed_in)
    if revoked.status_code != HTTPStatus.NO_CONTENT:
        raise StepFailed(f"revoke answered {revoked.status_code}")
    refused = auth_me.sync(client=client)
    if not isinstance(refused, Problem) or refused.status != HTTPStatus.UNAUTHORIZED:
        raise StepFailed(f"the revoked key still answers: {refused!r}")
    say(f"the revoked key is refused: {refused.status} {refused.title}")


if __name__ == "__main__":
    try:
        main()
    except StepFailed as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        sys.exit(1)
    print("the workflow completed through the generated client")
