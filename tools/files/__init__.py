"""File transfer (파일 보내기, 파일 가져오기, 양방향 파일 전송): files and folders both ways, streamed in bounded
chunks, verified by SHA-256, written only inside the chosen folder. See :mod:`._transfers` for the flow."""

from ._errors import FileTransferError, TransferRefused, UnsafeName
from ._listing import TOPIC_LIST, TOPIC_LIST_RESULT, Listing, RemoteBrowser, list_folder
from ._loopback import Loopback, measure_throughput
from ._paths import DownloadFolder, safe_parts, unique_candidates
from ._progress import Progress, format_duration, format_size
from ._transfers import (
    AgentGate,
    Batch,
    BatchState,
    BatchView,
    ConsentRequest,
    Direction,
    Entry,
    FileTransfers,
    Outbox,
    TransferGate,
    Verdict,
)

__all__ = [
    "TOPIC_LIST",
    "TOPIC_LIST_RESULT",
    "AgentGate",
    "Batch",
    "BatchState",
    "BatchView",
    "ConsentRequest",
    "Direction",
    "DownloadFolder",
    "Entry",
    "FileTransferError",
    "FileTransfers",
    "Listing",
    "Loopback",
    "Outbox",
    "Progress",
    "RemoteBrowser",
    "TransferGate",
    "TransferRefused",
    "UnsafeName",
    "Verdict",
    "format_duration",
    "format_size",
    "list_folder",
    "measure_throughput",
    "safe_parts",
    "unique_candidates",
]
