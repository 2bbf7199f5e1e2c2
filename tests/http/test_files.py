"""Issue 20, files in the chat, through the Bot Framework protocol: a message asks for
the XLSX, the bot answers with Teams' file consent card; the "fileConsent/invoke" that
accepts it makes the bot PUT the file to the upload URL Teams gave (here a stand-in
that records the PUTs, allowed by KOMPETENSBOT_FILE_UPLOAD_URLS) and send a file info
card; the file is the one `kompetensbot export` / `followup export` writes for the
same person."""

from __future__ import annotations

import asyncio
import io
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from openpyxl import load_workbook

from bot.file_offers import UploadPolicy
from bot.round_services import RoundServices
from bot.services import Services
from cli.main import main
from core.model import Role
from dialogs import texts
from dialogs.file_offers import CONSENT_CARD, CONSENT_INVOKE, INFO_CARD
from storage.db import make_engine
from tests.http.conftest import database_url  # noqa: F401 - the fixture
from tests.http.harness import ConnectorStub, activity, free_port
from tests.http.inprocess import InProcessBot

TODAY = date(2025, 6, 30)  # after the example's June follow-ups were reported
CHEF, OFFICE = "anna", "stina"  # anna: chef of GVN; stina: stadskontoret


class UploadStub:
    """A stand-in for the upload URL Teams gives (an upload session on OneDrive):
    records every PUT (path, headers, body) and answers `status`."""

    def __init__(self, status: int = 201) -> None:
        self.status = status
        self.port = free_port()
        self.puts: list[tuple[str, dict[str, str], bytes]] = []
        self.requests = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _any(self, request: web.Request) -> web.Response:
        self.requests += 1
        body = await request.read()
        if request.method == "PUT":
            self.puts.append((request.path, dict(request.headers), body))
        return web.json_response({"id": "item-1", "name": "fil.xlsx", "size": len(body)}, status=self.status)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._any)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> UploadStub:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


class Chat:
    """The bot, the connector stand-in and the upload stand-in, with roles granted."""

    def __init__(self, url: str) -> None:
        self.url = url
        engine = make_engine(url)
        services = Services(engine, org="malmo")
        services.grant_role(None, CHEF, Role.CHEF, "GVN")
        services.grant_role(None, OFFICE, Role.CITY_OFFICE, None)
        RoundServices(engine, org="malmo").open(None, "2025-06")
        engine.dispose()
        self.stub = ConnectorStub().start()
        self.upload = UploadStub().start()
        self.evil = UploadStub().start()  # a host the bot must never send a file to
        self.app = InProcessBot(url, demo=False, today=TODAY, file_upload_urls=self.upload.url).start()

    def stop(self) -> None:
        self.app.stop()
        for stub in (self.stub, self.upload, self.evil):
            stub.stop()

    def say(self, user: str, text: str, *, conversation: str, kind: str = "personal") -> list[dict[str, Any]]:
        """A message; what the bot sent in answer."""
        body = activity(text, service_url=self.stub.url, user_id=user, conversation_id=conversation)
        body["conversation"]["conversationType"] = kind
        before = len(self.stub.received)
        assert self.app.post(body)[0] in (200, 202)
        return self.stub.received[before:]

    def offer(self, user: str, text: str) -> tuple[str, dict[str, Any], str]:
        """Ask for a file in a new personal chat: (conversation, consent card attachment, token)."""
        conversation = f"{user}-{uuid.uuid4().hex[:8]}"
        sent = self.say(user, text, conversation=conversation)
        cards = [a for s in sent for a in s.get("attachments") or [] if a.get("contentType") == CONSENT_CARD]
        assert len(cards) == 1, [s.get("text") for s in sent]
        card = cards[0]
        assert card["content"]["acceptContext"] == card["content"]["declineContext"]
        assert set(card["content"]["acceptContext"]) == {"offer"}  # only the opaque id
        return conversation, card, card["content"]["acceptContext"]["offer"]

    def consent(
        self,
        user: str,
        conversation: str,
        token: str,
        action: str = "accept",
        *,
        upload_url: str | None = None,
        kind: str = "personal",
    ) -> tuple[int, list[dict[str, Any]]]:
        """The fileConsent/invoke Teams sends when the card is answered: the HTTP status
        and what the bot sent."""
        value: dict[str, Any] = {"type": "fileUpload", "action": action, "context": {"offer": token}}
        if action == "accept":
            value["uploadInfo"] = {
                "contentUrl": f"{self.upload.url}/personal/{user}/Documents/fil.xlsx",
                "fileType": "xlsx",
                "name": "fil.xlsx",
                "uploadUrl": upload_url or f"{self.upload.url}/upload/{uuid.uuid4().hex}",
                "uniqueId": "unique-1",
            }
        body = activity(
            None,
            service_url=self.stub.url,
            user_id=user,
            conversation_id=conversation,
            activity_type="invoke",
            value=value,
        )
        body["name"] = CONSENT_INVOKE  # (activity()'s `name` is the sender's)
        body["conversation"]["conversationType"] = kind
        before = len(self.stub.received)
        status, _ = self.app.post(body)
        return status, self.stub.received[before:]


@pytest.fixture
def chat(database_url) -> Iterator[Chat]:  # noqa: F811
    chat = Chat(database_url)
    try:
        yield chat
    finally:
        chat.stop()


def sheets(data: bytes) -> dict[str, list[tuple[Any, ...]]]:
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def cli_file(url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *args: str) -> bytes:
    out = tmp_path / f"{uuid.uuid4().hex}.xlsx"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main([*args, "--out", str(out)]) == 0
    return out.read_bytes()


def texts_of(sent: list[dict[str, Any]]) -> list[str]:
    return [s.get("text") or "" for s in sent if s.get("type") == "message"]


def test_a_chef_gets_the_measures_file_with_only_their_units_rows_as_the_cli_writes_it(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conversation, card, token = chat.offer(CHEF, "exportera insatserna 2025 till excel")
    assert card["name"] == "insatser-2025.xlsx"
    assert card["content"]["description"] == texts.measures_file_description(2025)
    status, sent = chat.consent(CHEF, conversation, token)
    assert status == 200
    ((path, headers, body),) = chat.upload.puts
    size = len(body)
    assert headers["Content-Range"] == f"bytes 0-{size - 1}/{size}"
    assert int(headers["Content-Length"]) == size == card["content"]["sizeInBytes"]
    assert "Authorization" not in headers  # the session URL is its own authorisation
    assert path.startswith("/upload/")
    expected = cli_file(
        chat.url, monkeypatch, tmp_path, "export", "--year", "2025", "--format", "xlsx", "--user", CHEF
    )
    assert sheets(body) == sheets(expected)
    assert list(sheets(body)) == ["Insatser", "Behov"]  # the needs beside the measures (issue 21)
    header, *measures = sheets(body)["Insatser"]
    committee = header.index("Nämnd")
    assert measures and {row[committee] for row in measures} == {"GVN"}
    _, *needs = sheets(body)["Behov"]
    assert needs == []  # the example's needs are Förskolenämnden's: not the GVN manager's to read
    # The file info card, with what Teams gave in uploadInfo.
    infos = [a for s in sent for a in s.get("attachments") or [] if a.get("contentType") == INFO_CARD]
    assert infos == [
        {
            "contentType": INFO_CARD,
            "contentUrl": f"{chat.upload.url}/personal/{CHEF}/Documents/fil.xlsx",
            "name": "fil.xlsx",
            "content": {"uniqueId": "unique-1", "fileType": "xlsx"},
        }
    ]
    assert texts.FILE_SENT in texts_of(sent)
    # stadskontoret's file has every committee's measures: more rows than the chef's.
    conversation, _, token = chat.offer(OFFICE, "kan jag få en excel")
    assert chat.consent(OFFICE, conversation, token)[0] == 200
    office = sheets(chat.upload.puts[-1][2])
    assert len(office["Insatser"]) > len(measures) + 1
    assert [need[0] for need in office["Behov"][1:]] == ["FSKN-1", "FSKN-2", "FSKN-3", "FSKN-4"]
    assert chat.evil.requests == 0
    assert chat.app.errors.lines() == []


def test_the_follow_up_file_is_the_one_followup_export_writes_for_the_same_person(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conversation, card, token = chat.offer(CHEF, "skicka uppföljningen som fil")
    assert card["name"] == "uppfoljning-2025-06.xlsx"
    assert chat.consent(CHEF, conversation, token)[0] == 200
    ((_, _, body),) = chat.upload.puts
    expected = cli_file(
        chat.url, monkeypatch, tmp_path, "followup", "export", "--period", "2025-06", "--user", CHEF,
        "--as-of", TODAY.isoformat(),
    )  # fmt: skip
    assert sheets(body) == sheets(expected)
    first = sheets(body)["Uppföljning 2025-06"]
    assert len(first) > 1 and {row[0] for row in first[1:]} == {"GVN"}


def test_a_second_accept_of_the_same_offer_uploads_once(chat: Chat) -> None:
    conversation, _, token = chat.offer(CHEF, "export")
    assert chat.consent(CHEF, conversation, token)[0] == 200
    status, sent = chat.consent(CHEF, conversation, token)
    assert status == 200
    assert len(chat.upload.puts) == 1
    assert texts_of(sent) == [texts.FILE_OFFER_USED]


def test_decline_uploads_nothing_and_says_so(chat: Chat) -> None:
    conversation, _, token = chat.offer(CHEF, "exportera insatserna till excel")
    status, sent = chat.consent(CHEF, conversation, token, "decline")
    assert status == 200
    assert texts_of(sent) == [texts.FILE_DECLINED]
    assert chat.upload.requests == 0
    assert texts_of(chat.consent(CHEF, conversation, token)[1]) == [texts.FILE_OFFER_USED]
    assert chat.upload.requests == 0


def test_a_forged_upload_url_on_another_host_gets_nothing(chat: Chat) -> None:
    conversation, _, token = chat.offer(CHEF, "exportera insatserna 2025 till excel")
    status, sent = chat.consent(CHEF, conversation, token, upload_url=f"{chat.evil.url}/upload/1")
    assert status == 200
    assert texts_of(sent) == [texts.FILE_UPLOAD_FAILED]
    assert chat.evil.requests == 0 and chat.upload.requests == 0
    # The offer was not used up: Teams' own upload URL still takes the file.
    assert chat.consent(CHEF, conversation, token)[0] == 200
    assert len(chat.upload.puts) == 1 and chat.evil.requests == 0


def test_another_persons_offer_is_not_honoured(chat: Chat) -> None:
    conversation, _, token = chat.offer(OFFICE, "exportera insatserna 2025 till excel")
    status, sent = chat.consent(CHEF, f"{CHEF}-x", token)
    assert status == 200 and texts_of(sent) == [texts.FILE_OFFER_UNKNOWN]
    assert texts_of(chat.consent(CHEF, f"{CHEF}-x", "made-up")[1]) == [texts.FILE_OFFER_UNKNOWN]
    assert chat.upload.requests == 0
    assert chat.consent(OFFICE, conversation, token)[0] == 200  # still the owner's to accept
    assert len(chat.upload.puts) == 1


def test_an_upload_failure_is_told_in_swedish_without_a_traceback(chat: Chat) -> None:
    chat.upload.status = 500
    conversation, _, token = chat.offer(CHEF, "exportera insatserna 2025 till excel")
    status, sent = chat.consent(CHEF, conversation, token)
    assert status == 200
    assert texts_of(sent) == [texts.FILE_UPLOAD_FAILED]
    assert not any(s.get("attachments") for s in sent)
    assert chat.app.errors.lines() == []


@pytest.mark.parametrize("kind", ["groupChat", "channel"])
def test_group_chats_and_channels_are_refused_politely(chat: Chat, kind: str) -> None:
    sent = chat.say(CHEF, "exportera insatserna 2025 till excel", conversation=f"group-{kind}", kind=kind)
    assert texts_of(sent) == [texts.FILE_ONLY_PERSONAL]
    assert not any(s.get("attachments") for s in sent)
    # A consent invoke from there (forged: Teams sends none) is refused too, nothing uploaded.
    conversation, _, token = chat.offer(CHEF, "export")
    status, sent = chat.consent(CHEF, f"group-{kind}", token, kind=kind)
    assert status == 200 and texts_of(sent) == [texts.FILE_ONLY_PERSONAL]
    assert chat.upload.requests == 0


def test_the_upload_policy_allows_only_microsofts_file_hosts_by_default() -> None:
    policy = UploadPolicy.of(None)
    allowed = (
        "https://contoso-my.sharepoint.com/personal/anna_contoso_se/_api/v2.0/drive/items/1/uploadSession"
    )
    assert policy.check(allowed)
    assert policy.check("https://contoso-my.sharepoint.us/personal/x")
    for refused in (
        "http://contoso-my.sharepoint.com/x",  # not https
        "https://contoso-my.sharepoint.com:8443/x",  # another port
        "https://sharepoint.com.evil.example/x",
        "https://evil.example/contoso-my.sharepoint.com",
        "https://user@contoso-my.sharepoint.com/x",
        "javascript:alert(1)",
        None,
    ):
        assert not policy.check(refused), refused
    listed = UploadPolicy.of("http://127.0.0.1:9999")
    assert listed.check("http://127.0.0.1:9999/upload") and not listed.check(allowed)
    with pytest.raises(ValueError, match="KOMPETENSBOT_FILE_UPLOAD_URLS"):
        UploadPolicy.of("http://files.example")


def test_a_bad_upload_list_stops_the_server_at_start() -> None:
    from bot.config import Settings, StartRefused

    settings = Settings(database_url="sqlite://", demo=True, file_upload_urls="http://files.example/upload")
    with pytest.raises(StartRefused, match="KOMPETENSBOT_FILE_UPLOAD_URLS"):
        settings.check_serve()
    Settings(database_url="sqlite://", demo=True, file_upload_urls="http://127.0.0.1:9999").check_serve()


def test_a_round_named_that_does_not_exist_is_said_and_no_other_file_offered(chat: Chat) -> None:
    """ "uppföljningen 2024" when only 2025-06 has a round: said, never the latest round's file."""
    for asked, named in (
        ("skicka uppföljningen 2024 som fil", "2024"),
        ("uppföljningen för maj som fil", "maj"),
    ):
        sent = chat.say(OFFICE, asked, conversation=f"{OFFICE}-{uuid.uuid4().hex[:8]}")
        assert texts_of(sent) == [
            texts.no_round_for(2024 if named == "2024" else None, 5 if named == "maj" else None)
        ]
        assert f"för {named}." in texts_of(sent)[0]
        assert not [a for s in sent for a in s.get("attachments") or []]  # no consent card


def test_a_csv_asked_for_is_told_the_file_comes_as_excel(chat: Chat) -> None:
    """A stranger's "exportera allt till csv" got an Excel file without a word about it."""
    sent = chat.say(OFFICE, "exportera allt till csv", conversation=f"{OFFICE}-{uuid.uuid4().hex[:8]}")
    [offered] = [s for s in sent if s.get("attachments")]
    assert offered["text"].startswith(texts.FILE_ONLY_XLSX)
