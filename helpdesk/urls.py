from django.urls import path

from helpdesk.views import desk, portal

urlpatterns = [
    path("tickets/", portal.ticket_list, name="portal_tickets"),
    path("tickets/new/", portal.ticket_new, name="portal_ticket_new"),
    path("tickets/<str:reference>/", portal.ticket_detail, name="portal_ticket"),
    path(
        "tickets/<str:reference>/submitted/",
        portal.ticket_submitted,
        name="portal_ticket_submitted",
    ),
    path("tickets/<str:reference>/reply/", portal.ticket_reply, name="portal_ticket_reply"),
    path(
        "tickets/<str:reference>/<str:action>/",
        portal.ticket_status_action,
        name="portal_ticket_action",
    ),
    path("track/", portal.track, name="portal_track"),
    path("t/<str:token>/", portal.guest_ticket, name="portal_guest_ticket"),
    path("t/<str:token>/reply/", portal.guest_reply, name="portal_guest_reply"),
    path("t/<str:token>/<str:action>/", portal.guest_status_action, name="portal_guest_action"),
    path("attachments/<str:token>/", portal.attachment_download, name="attachment"),
    path("desk/", desk.queue, name="desk_queue"),
    path("desk/bulk/", desk.bulk, name="desk_bulk"),
    path("desk/counts/", desk.queue_counts, name="desk_queue_counts"),
    path("desk/organisations/", desk.organisation_suggestions, name="desk_organisations"),
    path("desk/customers/<int:customer_id>/", desk.customer_detail, name="desk_customer"),
    path("desk/views/", desk.saved_view_create, name="desk_saved_view_create"),
    path("desk/views/<int:view_id>/rename/", desk.saved_view_rename, name="desk_saved_view_rename"),
    path("desk/views/<int:view_id>/delete/", desk.saved_view_delete, name="desk_saved_view_delete"),
    path("desk/tickets/<str:reference>/", desk.ticket_detail, name="desk_ticket"),
    path("desk/tickets/<str:reference>/reply/", desk.ticket_reply, name="desk_ticket_reply"),
    path("desk/tickets/<str:reference>/update/", desk.ticket_update, name="desk_ticket_update"),
    path("desk/tickets/<str:reference>/assign/", desk.ticket_assign, name="desk_ticket_assign"),
    path(
        "desk/tickets/<str:reference>/transfer/", desk.ticket_transfer, name="desk_ticket_transfer"
    ),
    path(
        "desk/tickets/<str:reference>/escalate/", desk.ticket_escalate, name="desk_ticket_escalate"
    ),
    path("desk/tickets/<str:reference>/merge/", desk.ticket_merge, name="desk_ticket_merge"),
    path("desk/tickets/<str:reference>/master/", desk.ticket_master, name="desk_ticket_master"),
    path("desk/tickets/<str:reference>/link/", desk.ticket_link, name="desk_ticket_link"),
    path(
        "desk/tickets/<str:reference>/draft-article/",
        desk.ticket_draft_article,
        name="desk_ticket_draft_article",
    ),
]
