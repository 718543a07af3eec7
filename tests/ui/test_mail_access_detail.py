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


async def test_the_events_view_reads_extended_and_device_properties_from_the_record_it_opens(make_app):
    """The events view's frame leaves out what only the drill-down shows (a seventh of an event's memory): the
    drill-down shows it from the record it reads."""
    from workbench.core.activity import DRILL_DOWN_ONLY

    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        assert not set(DRILL_DOWN_ONLY) & set(app.screen.view.events.columns)
        await apply_filter(pilot, "op:UserLoggedIn")
        await settle(app, pilot)
        shown = pane(app)
        assert "ExtendedProperties" in shown and "UserAuthenticationMethod" in shown
        assert "DeviceProperties" in shown and "Actor" in shown
