"""Downloads of personal data: offered to the roles that may export them, each click audited."""

from __future__ import annotations

from collections.abc import Callable

from geo.privacy.exports import export_refusal, record_export
from pages._shared.caches import connections
from pages._shared.errors import guarded
from pages._shared.user import current_user, signed_in


def audited_download(
    container,
    label: str,
    data: str | Callable[[], str],
    file_name: str,
    mime: str,
    *,
    kind: str,
    target: str,
    rows: int,
) -> None:
    """Offer a download of personal data to the roles that may export it; clicking it is audited.

    The button shows for the signed-in role; the click checks the role in the database again.

    Parameters
    ----------
    container
        Where the button goes (``st`` or a column).
    label, data, file_name, mime
        As :func:`streamlit.download_button` takes them: ``data`` may be a function that
        makes the file when it is clicked (Streamlit runs it then), so a rerun does not.
    kind
        A key of :data:`geo.privacy.exports.PERSONAL_EXPORTS`.
    target
        What is exported, for the audit log.
    rows
        Rows in the file.
    """
    user = signed_in()
    refusal = export_refusal(kind, user.role if user else None)
    if refusal is not None:
        container.caption(refusal)
        return
    container.download_button(
        label,
        data,
        file_name=file_name,
        mime=mime,
        on_click=guarded(record_export),
        args=(connections().app, kind, target),
        kwargs={"rows": rows, "output_format": file_name.rsplit(".", 1)[-1], "user": current_user()},
    )
