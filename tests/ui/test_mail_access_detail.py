"""The drill-down decodes a MailItemsAccessed record: access type, throttling, folders and their items."""

from tests.ui.conftest import pane, settle
from tests.ui.test_flow import apply_filter


async def test_drill_down_of_mail_items_accessed_shows_access_type_folders_and_items(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await apply_filter(pilot, "op:MailItemsAccessed user:compromisedadmin")
        await settle(app, pilot)
        view = app.screen.view
        assert view.frame.height
        shown = pane(app)
        assert "Mailbox access" in shown
        assert "access: Sync: whole folders downloaded by a client" in shown or "access: Bind: messages opened" in shown
        assert "folder: \\Inbox (" in shown
