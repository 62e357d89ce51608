"""Global IDs of the rows a store numbers (tickets, appointments, slots, ratings,
rectifications, complaints). In the format of the previous release their key is the
row number: one no INTEGER column can hold — beyond 2³¹−1, zero, negative, signed or
spelt with underscores — is INVALID_ID, on every mutation that takes one and on
``node(id:)``, never a database error. In today's format their key is the row's public
key, held by the division the ID names: a row number there, or another division's key,
is INVALID_ID too."""

from __future__ import annotations

import base64

import pytest

from tests.auth.conftest import bearer, signed_in
from tests.conftest import GraphQLClient

BAD_KEYS = ["999999999999999999999", str(2**31), str(2**63), "0", "-1", "+5", "1_0", "٣"]
YUCI = "140702000000"
# today's format: the division, then a key that is not a public key of that division
BAD_PUBLIC = [
    f"{YUCI}:1",
    f"{YUCI}:{YUCI}-{'0' * 31}",
    f"{YUCI}:{YUCI}-{'G' * 32}",
    f"{YUCI}:140703000000-{'0' * 32}",
]


def forge(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# mutation, its input type, the input field of the id, the id's type, more input
MUTATIONS = [
    ("cancelTicket", "TicketActionInput", "ticketId", "Ticket", {}),
    ("serveTicket", "TicketActionInput", "ticketId", "Ticket", {}),
    ("markNoShow", "TicketActionInput", "ticketId", "Ticket", {}),
    ("recallTicket", "TicketActionInput", "ticketId", "Ticket", {}),
    ("finishTicket", "FinishTicketInput", "ticketId", "Ticket", {}),
    (
        "transferTicket",
        "TransferTicketInput",
        "ticketId",
        "Ticket",
        {"toWindowId": forge("Window:COUNTY:140702000000W01")},
    ),
    ("bookAppointment", "BookAppointmentInput", "slotId", "AppointmentSlot", {}),
    ("cancelAppointment", "AppointmentActionInput", "appointmentId", "Appointment", {}),
    ("checkInAppointment", "AppointmentActionInput", "appointmentId", "Appointment", {}),
    ("appealRating", "AppealRatingInput", "id", "Evaluation", {"reason": "r"}),
    ("decideAppeal", "DecideAppealInput", "id", "Evaluation", {"uphold": True}),
    ("recordCallback", "RecordCallbackInput", "id", "Rectification", {"note": "n"}),
    (
        "completeRectification",
        "CompleteRectificationInput",
        "id",
        "Rectification",
        {"measures": "m"},
    ),
    ("handleComplaint", "HandleComplaintInput", "id", "Complaint", {"handling": "h"}),
    (
        "rateComplaintHandling",
        "RateComplaintHandlingInput",
        "id",
        "Complaint",
        {"satisfaction": "SATISFIED"},
    ),
]


@pytest.mark.parametrize(("mutation", "input_type", "field", "type_name", "extra"), MUTATIONS)
async def test_an_id_out_of_range_is_invalid_id(
    gql: GraphQLClient,
    mutation: str,
    input_type: str,
    field: str,
    type_name: str,
    extra: dict[str, object],
) -> None:
    token = (await signed_in(gql, "resident1"))["accessToken"]
    query = f"""mutation($input: {input_type}!) {{
      {mutation}(input: $input) {{ errors {{ code field }} }}
    }}"""
    for key in [*(f"COUNTY:{k}" for k in BAD_KEYS), *BAD_PUBLIC]:
        input = {field: forge(f"{type_name}:{key}"), **extra}
        body = await gql(query, {"input": input}, **bearer(token))
        assert "errors" not in body, (key, body)
        assert body["data"][mutation]["errors"] == [
            {"code": "INVALID_ID", "field": ["input", field]}
        ], key


async def test_node_with_an_id_out_of_range_is_invalid_id(gql: GraphQLClient) -> None:
    token = (await signed_in(gql, "jz.auditor"))["accessToken"]
    for type_name in ("Evaluation", "Rectification", "Complaint"):
        for key in [*(f"COUNTY:{k}" for k in BAD_KEYS), *BAD_PUBLIC]:
            body = await gql(
                "query($id: ID!) { node(id: $id) { id } }",
                {"id": forge(f"{type_name}:{key}")},
                **bearer(token),
            )
            assert body["data"] == {"node": None}, (type_name, key)
            assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_ID"], body
