"""Test data for `.ci/schemathesis`: what a generator cannot make up.

Waits for the server, signs in, reads the demo county through the API (and adds the few
things it lacks: a photo of the role's own, a webhook, a pending adjustment by another
supervisor, vetoes at each step that waits for a signature, an extension request, an order with its tracking token), and writes into
OUT_DIR: `token` (the role's access token), `refresh` (a refresh token of another demo
user) and `data.toml` (the schemathesis dictionaries `.ci/schemathesis.toml` binds).

    python3 .ci/schemathesis-data.py BASE_URL ROLE OUT_DIR   (admin password in MINQING_ST_ADMIN_PASSWORD)
"""

import datetime
import json
import os
import struct
import sys
import time
import urllib.error
import urllib.request
import uuid
import zlib

BASE, ROLE, OUT = sys.argv[1:4]
ADMIN_PHONE, ADMIN_PASSWORD = "13800000000", os.environ["MINQING_ST_ADMIN_PASSWORD"]
CADRE_PHONE, SUPERVISOR_PHONE, OTHER_PHONE = "13900000011", "13900000001", "13900000012"
DEMO_PASSWORD = "minqing-demo"


def call(method, path, token=None, body=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Content-Type": content_type} if data is not None else {}
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
    except urllib.error.HTTPError as err:
        sys.exit(f"schemathesis data: {method} {path} answered {err.code}: {err.read()[:300]!r}")
    return json.loads(text) if text else None


def items(path, token):
    sep = "&" if "?" in path else "?"
    return call("GET", f"{path}{sep}limit=500", token)["items"]


def png():
    """A 16×16 grey PNG."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    rows = b"".join(b"\x00" + b"\x80" * 16 for _ in range(16))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def photo(token):
    return call("POST", "/media", token, raw=png(), content_type="image/png")["id"]


def login(phone, password=DEMO_PASSWORD, field="access_token"):
    return call("POST", "/auth/login", body={"phone": phone, "password": password})[field]


deadline = time.time() + 60
while True:
    try:
        urllib.request.urlopen(BASE + "/health", timeout=2)
        break
    except OSError:
        if time.time() > deadline:
            sys.exit("schemathesis data: the server did not start")
        time.sleep(0.3)

# Every sign-in first: the run tries wrong passwords, which soon limits sign-ins from here.
ADMIN = login(ADMIN_PHONE, ADMIN_PASSWORD)
CADRE = login(CADRE_PHONE)
supervisor = login(SUPERVISOR_PHONE)
with open(os.path.join(OUT, "token"), "w") as out:
    out.write(ADMIN if ROLE == "admin" else CADRE)
with open(os.path.join(OUT, "refresh"), "w") as out:
    out.write(login(OTHER_PHONE, field="refresh_token"))
with open(os.path.join(OUT, "supervisor"), "w") as out:
    out.write(supervisor)


# The demo county's clock: local dates are Asia/Shanghai's (UTC+8, no summer time).
now = datetime.datetime.now(datetime.timezone.utc)
today = (now + datetime.timedelta(hours=8)).date()
month = today.strftime("%Y-%m")
last_month = (today.replace(day=1) - datetime.timedelta(days=1)).strftime("%Y-%m")


def stamp(delta):
    return (now + delta).strftime("%Y-%m-%dT%H:%M:%SZ")

# --- what the admin sees
me_admin = call("GET", "/me", ADMIN)["id"]
supervisor_id = call("GET", "/me", supervisor)["id"]
units = items("/org-units", ADMIN)
users = items("/users", ADMIN)
orders = items("/work-orders", ADMIN)
checkins = items("/checkins", ADMIN)
sessions = items("/sessions", ADMIN)
records = items("/records", ADMIN)
schemes = items("/scoring/schemes", ADMIN)
categories = items("/categories", ADMIN)
staff = [u["id"] for u in users if u["role"] in ("cadre", "supervisor") and u["active"]]

# --- what the cadre sees and owns
me = call("GET", "/me", CADRE)
cadre_id, town_id = me["id"], me["org_unit_id"]
cadre_villages = [v["id"] for v in me["villages"]]
cadre_orders = items("/work-orders", CADRE)
cadre_checkins = items("/checkins", CADRE)
cadre_sessions = items("/sessions", CADRE)
cadre_records = items("/records", CADRE)
logs = [day["log"]["id"] for m in (month, last_month)
        for day in call("GET", f"/work-logs?month={m}", CADRE)["days"] if day["log"]]
colleagues = [u["id"] for u in users
              if u["org_unit_id"] == town_id and u["id"] != cadre_id and u["role"] in ("cadre", "supervisor")]

# --- what the demo lacks
cadre_photo, admin_photo = photo(CADRE), photo(ADMIN)
webhook = call("POST", "/webhooks", ADMIN, {
    "url": "http://127.0.0.1:9/minqing-hook", "secret": "schemathesis-secret-1", "events": ["*"]})["id"]
adjustment = call("POST", "/scoring/adjustments", supervisor, {
    "user_id": cadre_id, "period": month, "points": 1.5, "reason": "schemathesis: awaiting approval"})["id"]
# Vetoes by the demo supervisor: one pending, one the admin approved (to ask to withdraw),
# one whose withdrawal the supervisor asked for after the admin approved it.
veto_areas = [a["code"] for a in call("GET", "/scoring/veto-areas", ADMIN)["items"] if a["active"]]
vetoes = []
for step in ("pending", "approved", "withdrawal_requested"):
    veto = call("POST", "/scoring/vetoes", supervisor, {
        "user_id": cadre_id, "period": month, "area": veto_areas[0], "reason": f"schemathesis: {step}"})["id"]
    if step != "pending":
        call("POST", f"/scoring/vetoes/{veto}/approve", ADMIN, {})
    if step == "withdrawal_requested":
        call("POST", f"/scoring/vetoes/{veto}/withdrawal", supervisor, {"reason": "schemathesis: withdraw"})
    vetoes.append(veto)
mine_in_progress = [o for o in cadre_orders
                    if o["status"] == "in_progress" and o["assignee_id"] == cadre_id and o["due_at"]]
extensions = []
for order in mine_in_progress[:1]:
    due = datetime.datetime.fromisoformat(order["due_at"].replace("Z", "+00:00"))
    later = (due + datetime.timedelta(days=7)).isoformat().replace("+00:00", "Z")
    extensions.append(call("POST", f"/work-orders/{order['id']}/extensions", CADRE, {
        "due_at": later, "reason": "schemathesis: more time"})["id"])
tracked = call("POST", "/work-orders", CADRE, {
    "id": str(uuid.uuid4()), "category": categories[0]["code"], "title": "路灯不亮",
    "description": "村口路灯坏了三天", "village_id": cadre_villages[0], "source": "visit"})
# Resolved on the spot, so that its reporter (whoever holds the token) may rate it.
rated = call("POST", "/work-orders", CADRE, {
    "id": str(uuid.uuid4()), "category": categories[0]["code"], "title": "水渠堵塞",
    "description": "水渠被落叶堵住", "village_id": cadre_villages[0], "source": "visit",
    "resolved_on_spot": True, "resolution_note": "当场清理了水渠"})


def ids(rows, key="id"):
    return [r[key] for r in rows if r.get(key)]


def write(dictionaries):
    lines = [f"# Made by .ci/schemathesis-data.py for the {ROLE}'s run."]
    for name, values in dictionaries.items():
        values = list(dict.fromkeys(v for v in values if v)) or ["none"]
        lines += ["", f"[dictionaries.{name}]", "values = " + json.dumps(values, ensure_ascii=False)]
    with open(os.path.join(OUT, "data.toml"), "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


villages = [u for u in units if u["kind"] == "village"]
common = {
    "rated_orders": [rated["id"]],
    "rating_tokens": [rated["tracking_token"]],
    "extension_orders": [o["id"] for o in mine_in_progress[:1]],
    # Times the rules want near now: a session within 31 days, a check-in just made, a
    # deadline ahead; and today's work log.
    "soon": [stamp(datetime.timedelta(days=d)) for d in (1, 3)],
    "recent": [stamp(datetime.timedelta(minutes=-m)) for m in (5, 30)],
    "later": [stamp(datetime.timedelta(days=d)) for d in (40, 90)],
    "today": [today.isoformat()],
    "log_text": ["上午走访溪口村三户村民，了解灌溉用水困难；下午协调水利站安排疏通沟渠。"],
    "villages": ids(villages),
    "village_codes": ids(villages, "code"),
    "categories": ids(categories, "code"),
    "order_codes": [tracked["code"]],
    "tracking_tokens": [tracked["tracking_token"]],
    "query_codes": [tracked["query_code"]],
}
if ROLE == "admin":
    dictionaries = {
        # Never the admin or the supervisor whose tokens the run uses: a new password, role
        # or `active: false` ends the user's sessions.
        "users": [u["id"] for u in users if u["id"] not in (me_admin, supervisor_id)],
        "staff": staff,
        "colleagues": staff,
        "units": ids(units),
        "places": ids(units),
        "orders": ids(orders) + ids(orders, "code"),
        "checkins": ids(checkins),
        "sessions": ids(sessions),
        "records": ids(records),
        "photos": [admin_photo],
        "media": [admin_photo, cadre_photo] + [p for c in checkins for p in c["photo_ids"]],
    }
else:
    dictionaries = {
        "users": [cadre_id],
        "staff": [cadre_id] + colleagues,
        "colleagues": colleagues,
        "units": [town_id],
        "places": [town_id] + cadre_villages,
        "villages": cadre_villages + ids(villages),
        "orders": ids(cadre_orders) + ids(cadre_orders, "code") + [tracked["id"]],
        "checkins": ids(cadre_checkins),
        "sessions": ids(cadre_sessions),
        "records": ids(cadre_records),
        "photos": [cadre_photo],
        "media": [cadre_photo] + [p for c in cadre_checkins for p in c["photo_ids"]],
    }
write({
    **common,
    "worklogs": logs,
    "schemes": ids(schemes),
    "adjustments": [adjustment],
    "vetoes": vetoes,
    "veto_areas": veto_areas,
    "extensions": extensions,
    "webhooks": [webhook],
    "flagged_checkins": [c["id"] for c in checkins if c["status"] == "flagged"],
    "town_records": [r["id"] for r in records
                     if any(u["id"] == r["user_id"] and u["org_unit_id"] == town_id for u in users)],
    **dictionaries,
})
