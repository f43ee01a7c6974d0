#!/usr/bin/env python3
"""quota.py — the driver of tools/bench/quota/run.sh: a replayed team workload sent, request
by request, to irisgate and to nginx proxy_cache (each in front of its own fakeiris), the
upstream queries each spent (fakeiris /_fake/stats, the referee), and the fewest an ideal
cache with the same TTL could have spent (an offline model of the same request sequence).

Python 3 standard library only. Run by run.sh, which starts the servers and hands over
their addresses and the users' credentials (a 0600 JSON file); never run by a test.

The workload (seeded, so the same knobs give the same questions):
  analyst  Investigate one domain at a time, as typed (mixed case); now and then clicks a
           value of the answer (an IP, a name server) and reads the pivot's first page,
           then opens one domain of it.
  soar     Enrich lists of 10-50 domains (alerts), plus the same three watchlists every day.
  misp     Enrich one domain at a time (attributes as typed, some upper case).
  pivoter  a script: Investigate a domain, then pivot on 1-2 of its values (IP, name server
           host or IP, mail server, registrant, registrant org, e-mail domain) with every
           page; the same two watch pivots every day.
  hunter   Investigate lists of 2-20 domains, some taken from its own earlier pivot pages.
Domains are drawn Zipf-distributed (exponent ZIPF_S) over fakeiris's synthetic universe,
ranked in a seeded random order; a few alert domains are outside the universe.
"""
import argparse
import bisect
import http.client
import itertools
import json
import os
import random
import sqlite3
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict

ROLES = ["analyst", "soar", "misp", "pivoter", "hunter"]
# Share of each day's requests per role (a pivot walk spends one slot per page).
WEIGHTS = {"analyst": 0.30, "soar": 0.12, "misp": 0.25, "pivoter": 0.15, "hunter": 0.18}
DOMAIN_VALUED = {"domain", "nameserver_host", "nameserver_domain", "mailserver_host",
                 "mailserver_domain", "email_domain", "redirect_domain", "tld"}


def log(msg):
    print(f"bench-quota: {msg}", file=sys.stderr, flush=True)


# ---- talking to the servers ---------------------------------------------------------------

class Conn:
    """One keep-alive connection to host:port, reopened when the server closed it."""

    def __init__(self, port):
        self.port = port
        self.c = None

    def get(self, path):
        for attempt in range(2):
            try:
                if self.c is None:
                    self.c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                self.c.request("GET", path, headers={"User-Agent": "bench-quota"})
                r = self.c.getresponse()
                body = r.read()
                return r.status, {k.lower(): v for k, v in r.getheaders()}, body
            except (http.client.HTTPException, ConnectionError, OSError):
                if self.c:
                    self.c.close()
                self.c = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


def fake_stats(port):
    c = Conn(port)
    st, _, body = c.get("/_fake/stats")
    c.c.close()
    if st != 200:
        raise RuntimeError(f"/_fake/stats answered {st}")
    return json.loads(body)["queries"]


def universe(port, n):
    names, c = [], Conn(port)
    while len(names) < n:
        st, _, body = c.get(f"/_fake/domains?offset={len(names)}&limit={min(10000, n - len(names))}")
        got = json.loads(body) if st == 200 else []
        if not got:
            break
        names.extend(got)
    c.c.close()
    return names


# ---- the canonical question (for the model; what irisgate's canon.c documents) -----------

def canon(endpoint, params):
    out = {}
    for k, v in params:
        if k in ("api_username", "api_key", "timestamp", "signature") or k.startswith("app_"):
            continue
        if k == "format" and v == "json":
            continue
        if k in DOMAIN_VALUED:
            v = ",".join(x.strip().lower() for x in v.split(",") if x.strip())
        out[k] = v
    return endpoint, tuple(sorted(out.items()))


# ---- the workload ---------------------------------------------------------------------------

class Zipf:
    def __init__(self, names, s, rng):
        order = list(range(len(names)))
        rng.shuffle(order)  # which domain gets which popularity rank
        self.names = [names[i] for i in order]
        self.cum = list(itertools.accumulate(1.0 / (r + 1) ** s for r in range(len(names))))

    def draw(self, rng):
        return self.names[min(bisect.bisect_left(self.cum, rng.random() * self.cum[-1]),
                              len(self.names) - 1)]


def vary_case(d, rng, p):
    """A domain as a person or a tool may type it."""
    x = rng.random()
    if x >= p:
        return d
    if x < p / 3:
        return d.upper()
    if x < 2 * p / 3:
        return d.capitalize()
    return "".join(ch.upper() if rng.random() < 0.3 else ch for ch in d)


def pivot_values(result, pivot_max):
    """(param, value) pairs a pivot could be run on, with 2..pivot_max domains behind them."""
    out = []

    def add(param, node):
        if isinstance(node, dict) and node.get("value") not in (None, "") and \
                2 <= int(node.get("count") or 0) <= pivot_max:
            out.append((param, str(node["value"])))

    for ip in result.get("ip") or []:
        add("ip", ip.get("address"))
    for ns in result.get("name_server") or []:
        add("nameserver_host", ns.get("host"))
        for nip in ns.get("ip") or []:
            add("nameserver_ip", nip)
    for mx in result.get("mx") or []:
        add("mailserver_host", mx.get("host"))
    add("registrant", result.get("registrant_name"))
    add("registrant_org", result.get("registrant_org"))
    for ed in result.get("email_domain") or []:
        add("email_domain", ed)
    return out


class Run:
    def __init__(self, a):
        self.a = a
        self.creds = json.load(open(a.creds))
        self.records = []  # every request: see User.send
        self.rec_lock = threading.Lock()
        self.day_start = [0.0] * a.days
        self.failures = []


class User:
    def __init__(self, run, name, role, zipf, n_slots):
        self.run, self.name, self.role, self.zipf = run, name, role, zipf
        self.key = run.creds[name]
        self.rng = random.Random(f"{run.a.seed}/{name}")
        self.n_slots = n_slots
        self.gate = Conn(run.a.gate_port)
        self.nginx = Conn(run.a.nginx_port)
        self.seen_pivot_domains = []  # from this user's own pivot pages
        self.seen_values = []         # pivot values from this user's own answers
        # Fixed daily work.
        wr = random.Random(f"{run.a.seed}/{name}/watch")
        self.watchlists = [[zipf.draw(wr) for _ in range(40)] for _ in range(3)]
        self.watch_pivots = []

    # -- one request, to both servers ----------------------------------------------------
    def send(self, day, path, params, nginx_params=None):
        """GETs path?params from irisgate, then from nginx (with nginx_params when they differ:
        each server's own position tokens); records both answers. The answer from irisgate,
        with nginx's position as "nginx_position"."""
        def url_of(ps):
            return path + "?" + "&".join(f"{k}={urllib.parse.quote(v, safe=',@')}" for k, v in ps)
        endpoint = "iris-enrich" if "enrich" in path else "iris-investigate"
        t = time.time()
        gs, gh, gb = self.gate.get(url_of(params))
        t_g = time.time()
        ns, nh, nb = self.nginx.get(url_of(nginx_params if nginx_params is not None else params))
        g = parse(gs, gb)
        n = parse(ns, nb)
        rec = {
            "user": self.name, "role": self.role, "day": day, "t": t, "t_done": t_g,
            "endpoint": endpoint, "canon": canon(endpoint, params),
            "gate_status": gs, "nginx_status": ns,
            "gate_cache": gh.get("x-cache", "-"), "nginx_cache": nh.get("x-cache-status", "-"),
            "domains": g["domains"], "same_domains": g["domains"] == n["domains"],
            "same_json": g["results"] == n["results"],
            # irisgate hands out its own position tokens: the same page is the same has_more.
            "same_page": (g["has_more"], g["position"] is None) == (n["has_more"], n["position"] is None),
            "position": g["position"], "has_more": g["has_more"],
        }
        if not (gs == 200 and ns == 200 and rec["same_domains"] and rec["same_page"]):
            with self.run.rec_lock:
                self.run.failures.append(
                    f"{self.name} day {day + 1} {endpoint} {rec['canon'][1]}: irisgate {gs} "
                    f"{rec['gate_cache']}, nginx {ns} {rec['nginx_cache']}, same domains "
                    f"{rec['same_domains']}, same page {rec['same_page']}; irisgate says "
                    f"{gb[:200]!r}, nginx says {nb[:200]!r}")
        with self.run.rec_lock:
            self.run.records.append(rec)
        g["nginx_position"] = n["position"]
        return g

    def creds_first(self):
        return [("api_username", self.name), ("api_key", self.key)]

    # -- the roles ------------------------------------------------------------------------
    def lookup(self, day, d, case_p=0.0, order="domain_first"):
        dd = vary_case(d, self.rng, case_p)
        if order == "domain_first":
            params = [("domain", dd)] + self.creds_first()
        else:
            params = [("api_key", self.key), ("api_username", self.name), ("domain", dd)]
        g = self.send(day, "/v1/iris-investigate/", params)
        for r in g["result_objs"][:1]:
            self.seen_values.extend(pivot_values(r, self.run.a.pivot_max))
        return g

    def pivot(self, day, param, value, all_pages, slots):
        """A pivot, first page only or every page (at most 20); returns the requests sent."""
        base = self.creds_first() + [("app_name", "bench_script"), ("app_version", "1.0"),
                                     (param, value)]
        used, pos, npos = 0, None, None
        while True:
            params = base + ([("position", pos)] if pos else [])
            nparams = base + ([("position", npos)] if npos else [])
            g = self.send(day, "/v1/iris-investigate/", params, nparams)
            used += 1
            self.seen_pivot_domains.extend(g["domains"][:50])
            del self.seen_pivot_domains[:-500]
            if not (all_pages and g["has_more"] and g["position"]) or used >= 20:
                return used
            pos, npos = g["position"], g["nginx_position"]

    def action(self, day, slots):
        """One action of this user's role; returns the number of requests it sent."""
        rng, a = self.rng, self.run.a
        if self.role == "analyst":
            g = self.lookup(day, self.zipf.draw(rng), case_p=0.25)
            used = 1
            if rng.random() < 0.25 and g["result_objs"]:
                vals = [v for v in pivot_values(g["result_objs"][0], a.pivot_max)
                        if v[0] in ("ip", "nameserver_host")]
                if vals:
                    p, v = rng.choice(vals)
                    if p == "nameserver_host":
                        v = vary_case(v, rng, 0.3)
                    used += self.pivot(day, p, v, all_pages=False, slots=1)
                    if self.seen_pivot_domains and rng.random() < 0.7:
                        self.lookup(day, rng.choice(self.seen_pivot_domains[-50:]), 0.25)
                        used += 1
            return used
        if self.role == "soar":
            if self.watch_due:
                self.watch_due -= 1
                lst = list(self.watchlists[self.watch_due])
                rng.shuffle(lst)
            else:
                lst = []
                for _ in range(rng.randint(10, 50)):
                    if rng.random() < 0.05:
                        lst.append(f"login-{rng.choice(['secure', 'verify', 'account'])}-"
                                   f"{rng.randrange(10 ** 6)}.xyz")
                    else:
                        lst.append(self.zipf.draw(rng))
            params = self.creds_first() + [("app_name", "splunk_soar"), ("app_version", "2.1"),
                                           ("domain", ",".join(lst))]
            self.send(day, "/v1/iris-enrich/", params)
            return 1
        if self.role == "misp":
            d = vary_case(self.zipf.draw(rng), rng, 0.15)
            self.send(day, "/v1/iris-enrich", [("api_key", self.key),
                                               ("api_username", self.name), ("domain", d)])
            return 1
        if self.role == "pivoter":
            if self.watch_due:
                self.watch_due -= 1
                p, v = self.watch_pivots[self.watch_due]
                return self.pivot(day, p, v, all_pages=True, slots=slots)
            g = self.lookup(day, self.zipf.draw(rng), order="creds_first")
            used = 1
            vals = pivot_values(g["result_objs"][0], a.pivot_max) if g["result_objs"] else []
            rng.shuffle(vals)
            for p, v in vals[:rng.choice([1, 1, 2])]:
                if used >= slots:
                    break
                used += self.pivot(day, p, v, all_pages=True, slots=slots - used)
                if len(self.watch_pivots) < 2:
                    self.watch_pivots.append((p, v))
            return used
        if self.role == "hunter":
            n = rng.randint(2, 20)
            lst = []
            for _ in range(n):
                if self.peers_pivots() and rng.random() < 0.3:
                    lst.append(rng.choice(self.peers_pivots()))
                else:
                    lst.append(self.zipf.draw(rng))
            lst = [vary_case(d, rng, 0.1) for d in lst]
            params = [("domain", ",".join(lst))] + self.creds_first()
            g = self.send(day, "/v1/iris-investigate/", params)
            if rng.random() < 0.3 and g["result_objs"]:
                vals = pivot_values(rng.choice(g["result_objs"]), min(a.pivot_max, 500))
                if vals and slots > 1:
                    p, v = rng.choice(vals)
                    return 1 + self.pivot(day, p, v, all_pages=True, slots=slots - 1)
            return 1
        raise ValueError(self.role)

    def peers_pivots(self):
        return self.seen_pivot_domains

    def run_day(self, day):
        a = self.run.a
        start = self.run.day_start[day]
        n = self.n_slots
        self.watch_due = {"soar": 3, "pivoter": len(self.watch_pivots)}.get(self.role, 0)
        # Slot i at a seeded moment of the first 85 % of the day, in order.
        times = sorted(start + (i + self.rng.random()) / n * 0.85 * a.day_seconds
                       for i in range(n))
        i = 0
        while i < n:
            wait = times[i] - time.time()
            if wait > 0:
                time.sleep(wait)
            try:
                i += max(1, self.action(day, n - i))
            except Exception as e:  # a broken connection, a bad answer: noted, not fatal
                with self.run.rec_lock:
                    self.run.failures.append(f"{self.name} day {day + 1}: {e!r}")
                i += 1
        late = time.time() - (start + a.day_seconds)
        if late > 0:
            log(f"{self.name} finished day {day + 1} {late:.1f} s late")


def parse(status, body):
    out = {"domains": [], "results": [], "result_objs": [], "has_more": None, "position": None}
    if status != 200:
        return out
    try:
        resp = json.loads(body)["response"]
    except (ValueError, KeyError, TypeError):
        return out
    res = [r for r in resp.get("results") or [] if isinstance(r, dict)]
    out["result_objs"] = res
    out["domains"] = sorted(str(r.get("domain", "")).lower() for r in res)
    out["results"] = sorted(res, key=lambda r: str(r.get("domain", "")).lower())
    out["has_more"] = resp.get("has_more_results")
    out["position"] = resp.get("position")
    return out


# ---- the ideal cache ----------------------------------------------------------------------

def model(records, ttl, refresh_all=False):
    """Queries an ideal on-demand cache with TTL ttl would spend, per record (in order of
    arrival at irisgate). Times are whole seconds, as irisgate keeps them: a question is
    checked at its arrival, and what it fetched is stamped with the time of its answer
    (irisgate stamps the upstream's answer); fresh means now - fetched < ttl. Rules: a domain list (Investigate or Enrich, only `domain=`) costs
    one query when at least one of its domains is not fresh (Investigate: a fresh Investigate
    profile, from any answer; Enrich: a fresh Enrich or Investigate profile), and the query
    makes the domains that were not fresh fresh (refresh_all: every domain of the list); any
    other question (a pivot page) costs one query unless the same canonical question was
    fetched within ttl, and its results become fresh Investigate profiles."""
    inv, enr, page = {}, {}, {}
    by = {}  # (map, domain) -> the record whose answer made it fresh (for the report)
    spent = []
    for r in sorted(records, key=lambda r: r["t"]):
        now, got = int(r["t"]), int(r["t_done"])
        ep, params = r["canon"]
        fresh = lambda m, d: d in m and now - m[d] < ttl
        if len(params) == 1 and params[0][0] == "domain":
            ds = list(dict.fromkeys(params[0][1].split(",")))
            if ep == "iris-investigate":
                stale = [d for d in ds if not fresh(inv, d)]
            else:
                stale = [d for d in ds if not fresh(inv, d) and not fresh(enr, d)]
            cost = 1 if stale else 0
            if not cost:
                r["model_from"] = [by.get(("inv", d)) or by.get(("enr", d)) for d in ds]
            for d in (ds if refresh_all and cost else stale):
                (inv if ep == "iris-investigate" else enr)[d] = got
                by[("inv" if ep == "iris-investigate" else "enr", d)] = r
        else:
            k = r["canon"]
            cost = 0 if fresh(page, k) else 1
            if cost:
                page[k] = got
                for d in r["domains"]:
                    inv[d] = got
                    by[("inv", d)] = r
        spent.append((r, ep, cost))
    return spent


# ---- the report -----------------------------------------------------------------------------

def gate_rows(db):
    """irisgate's requests table (user, key, outcome, upstream_queries), per user in order."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        rows = con.execute("SELECT user, key, outcome, upstream_queries, status FROM requests "
                           "WHERE user != '' ORDER BY id").fetchall()
        con.close()
    except sqlite3.Error as e:
        log(f"could not read irisgate's requests table: {e}")
        return {}
    per = defaultdict(list)
    for row in rows:
        per[row[0]].append(row)
    return per


def main():
    ap = argparse.ArgumentParser()
    for k in ("gate-port", "nginx-port", "fake-gate-port", "fake-nginx-port", "days", "users",
              "requests-per-day", "seed", "pivot-max", "universe"):
        ap.add_argument("--" + k, type=int, required=k not in ("pivot-max", "universe"))
    ap.add_argument("--day-seconds", type=float, required=True)
    ap.add_argument("--zipf-s", type=float, default=1.0)
    ap.add_argument("--creds", required=True)
    ap.add_argument("--gate-db", required=True)
    ap.add_argument("--out", required=True, help="markdown results")
    ap.add_argument("--tsv", required=True, help="one line per request")
    ap.add_argument("--command", default="")
    a = ap.parse_args()
    a.pivot_max = a.pivot_max or 1500
    run = Run(a)
    ttl = int(a.day_seconds)

    names = universe(a.fake_gate_port, a.universe or 100000)
    if len(names) < 100:
        raise SystemExit("fakeiris listed too few domains")
    zipf = Zipf(names, a.zipf_s, random.Random(f"{a.seed}/zipf"))
    users = []
    total_w = sum(WEIGHTS[ROLES[i % len(ROLES)]] for i in range(a.users))
    for i in range(a.users):
        role = ROLES[i % len(ROLES)]
        name = role if i < len(ROLES) else f"{role}{i // len(ROLES) + 1}"
        slots = max(1, round(a.requests_per_day * WEIGHTS[role] / total_w))
        users.append(User(run, name, role, zipf, slots))
    log(f"{len(names)} domains in the universe; users: " +
        ", ".join(f"{u.name} ({u.n_slots}/day)" for u in users))

    base = {"gate": fake_stats(a.fake_gate_port), "nginx": fake_stats(a.fake_nginx_port)}
    per_day = []
    barrier = threading.Barrier(len(users) + 1)
    go = threading.Event()

    def user_loop(u):
        for day in range(a.days):
            barrier.wait()
            u.run_day(day)
            barrier.wait()

    threads = [threading.Thread(target=user_loop, args=(u,), daemon=True) for u in users]
    for t in threads:
        t.start()
    t0 = time.time()
    prev = base
    overrun = []
    for day in range(a.days):
        run.day_start[day] = max(t0 + day * a.day_seconds, time.time())
        barrier.wait()                       # the day starts
        barrier.wait()                       # every user is done with it
        late = time.time() - (run.day_start[day] + a.day_seconds)
        if late < 0:
            time.sleep(-late)
        else:
            overrun.append(late)
            log(f"day {day + 1} ran {late:.1f} s over its {a.day_seconds:g} s")
        now = {"gate": fake_stats(a.fake_gate_port), "nginx": fake_stats(a.fake_nginx_port)}
        per_day.append({s: {k: now[s][k] - prev[s][k] for k in now[s]} for s in now})
        prev = now
        n = sum(1 for r in run.records if r["day"] == day)
        log(f"day {day + 1}/{a.days}: {n} requests; upstream queries irisgate "
            f"{per_day[-1]['gate']['iris-investigate'] + per_day[-1]['gate']['iris-enrich']}, "
            f"nginx {per_day[-1]['nginx']['iris-investigate'] + per_day[-1]['nginx']['iris-enrich']}")
    wall = time.time() - t0
    time.sleep(0.5)  # irisgate writes its requests rows within 100 ms

    recs = sorted(run.records, key=lambda r: r["t"])
    spent = model(recs, ttl)
    spent_all = model(recs, ttl, refresh_all=True)

    # Per request: what irisgate spent (its requests table), next to the model's cost.
    rows = gate_rows(a.gate_db)
    for _ in range(120):  # the store's writer may lag behind the answers (big pivot pages)
        if sum(len(v) for v in rows.values()) >= len(recs):
            break
        time.sleep(0.5)
        rows = gate_rows(a.gate_db)
    by_user = defaultdict(list)
    for r in recs:
        by_user[r["user"]].append(r)
    matched = 0
    for u, lst in by_user.items():
        rr = rows.get(u, [])
        for r, row in zip(lst, rr):
            r["gate_spent"] = row[3]
            r["gate_outcome"] = row[2]
            matched += 1
    cost_of = {id(r): c for r, _, c in spent}

    def q(d, s, ep=None):
        if ep:
            return d[s][ep]
        return d[s]["iris-investigate"] + d[s]["iris-enrich"]

    days_min = defaultdict(lambda: Counter())
    for r, ep, c in spent:
        days_min[r["day"]][ep] += c
    days_min_all = defaultdict(int)
    for r, ep, c in spent_all:
        days_min_all[r["day"]] += c

    tot = {s: Counter() for s in ("gate", "nginx")}
    for d in per_day:
        for s in tot:
            tot[s].update(d[s])
    tot_min = Counter()
    for d in days_min.values():
        tot_min.update(d)

    statuses = Counter((r["gate_status"], r["nginx_status"]) for r in recs)
    bad = [r for r in recs if r["gate_status"] != 200 or r["nginx_status"] != 200]
    diff_dom = [r for r in recs if not r["same_domains"]]
    diff_json = [r for r in recs if not r["same_json"]]
    diff_page = [r for r in recs if not r["same_page"]]

    # Where irisgate spent more than the model, request by request.
    excess = []
    for r in recs:
        if "gate_spent" in r and r["gate_spent"] > cost_of[id(r)]:
            excess.append(r)
    under = [r for r in recs if "gate_spent" in r and r["gate_spent"] < cost_of[id(r)]]
    kinds = Counter()
    for r in recs:
        ep, params = r["canon"]
        kind = ("enrich list" if ep == "iris-enrich" else "investigate list") \
            if len(params) == 1 and params[0][0] == "domain" else "pivot page"
        if kind != "pivot page" and "," not in params[0][1]:
            kind = kind.replace("list", "one domain")
        r["kind"] = kind
        kinds[kind] += 1
    outcomes = Counter(r["gate_cache"] for r in recs)
    nginx_outcomes = Counter(r["nginx_cache"] for r in recs)
    per_role = defaultdict(lambda: Counter())
    for r in recs:
        per_role[r["user"]]["requests"] += 1
        per_role[r["user"]]["gate"] += r.get("gate_spent", 0)
        per_role[r["user"]]["min"] += cost_of[id(r)]
        per_role[r["user"]]["nginx_miss"] += r["nginx_cache"] in ("MISS", "EXPIRED")

    with open(a.tsv, "w") as f:
        f.write("t\tday\tuser\tkind\tkey\tgate_status\tgate_cache\tgate_spent\tmodel\t"
                "nginx_status\tnginx_cache\tsame_domains\tsame_json\n")
        for r in recs:
            key = r["canon"][0] + "?" + urllib.parse.urlencode(r["canon"][1])
            f.write(f"{r['t'] - t0:.3f}\t{r['day'] + 1}\t{r['user']}\t{r['kind']}\t{key[:300]}\t"
                    f"{r['gate_status']}\t{r['gate_cache']}\t{r.get('gate_spent', '?')}\t"
                    f"{cost_of[id(r)]}\t{r['nginx_status']}\t{r['nginx_cache']}\t"
                    f"{int(r['same_domains'])}\t{int(r['same_json'])}\n")

    def ratio(x, y):
        return f"{x / y:.3f}" if y else "n/a"

    L = []
    L.append(f"Workload: {len(users)} users, {a.days} simulated days of {a.day_seconds:g} s "
             f"(TTL {ttl} s), about {a.requests_per_day} requests a day, seed {a.seed}, "
             f"Zipf exponent {a.zipf_s:g} over {len(names)} domains, pivots of 2..{a.pivot_max} "
             f"domains; {len(recs)} client requests sent to each server in {wall:.0f} s.")
    if overrun:
        L.append(f"(The client could not keep up on {len(overrun)} of {a.days} days, which ran "
                 f"{sum(overrun):.0f} s over in all: a later day starts later; the model uses the "
                 f"actual times, so the comparison holds.)")
    L.append("")
    L.append("Requests: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) +
             "; per user: " + ", ".join(f"{u.name} {per_role[u.name]['requests']}" for u in users) + ".")
    L.append("")
    L.append("| day | requests | irisgate | nginx | minimum | irisgate / minimum | nginx / irisgate |")
    L.append("|---:|---:|---:|---:|---:|---:|---:|")
    for i, d in enumerate(per_day):
        g, n, m = q(d, "gate"), q(d, "nginx"), sum(days_min[i].values())
        nreq = sum(1 for r in recs if r["day"] == i)
        L.append(f"| {i + 1} | {nreq} | {g} | {n} | {m} | {ratio(g, m)} | {ratio(n, g)} |")
    g = tot["gate"]["iris-investigate"] + tot["gate"]["iris-enrich"]
    n = tot["nginx"]["iris-investigate"] + tot["nginx"]["iris-enrich"]
    m = sum(tot_min.values())
    L.append(f"| **total** | {len(recs)} | **{g}** | **{n}** | **{m}** | **{ratio(g, m)}** "
             f"| **{ratio(n, g)}** |")
    L.append("")
    L.append("By product (upstream queries): " + "; ".join(
        f"{ep}: irisgate {tot['gate'][ep]}, nginx {tot['nginx'][ep]}, minimum {tot_min[ep]}"
        for ep in ("iris-investigate", "iris-enrich")) +
        f". `/v1/account` (not counted above): irisgate {tot['gate']['account'] + base['gate']['account']} "
        f"(its start-up read of the limits), nginx {tot['nginx']['account'] + base['nginx']['account']}.")
    L.append("")
    L.append(f"Model variant where a list's query refreshes every domain of the list (not only "
             f"the stale ones): {sum(days_min_all.values())} queries.")
    L.append("")
    L.append("| user | requests | irisgate spent | minimum | nginx misses |")
    L.append("|---|---:|---:|---:|---:|")
    for u in users:
        c = per_role[u.name]
        L.append(f"| {u.name} | {c['requests']} | {c['gate']} | {c['min']} | {c['nginx_miss']} |")
    L.append("")
    L.append("Checks: client statuses (irisgate, nginx): " +
             ", ".join(f"{k[0]}/{k[1]}: {v}" for k, v in sorted(statuses.items())) +
             f"; answers with different domains: {len(diff_dom)}; different results as JSON "
             f"values (order aside): {len(diff_json)}; different has_more/position: {len(diff_page)}; "
             f"driver errors: {len(run.failures)}.")
    L.append("")
    L.append("irisgate outcomes (X-Cache): " + ", ".join(f"{k} {v}" for k, v in outcomes.most_common()) +
             ". nginx (X-Cache-Status): " + ", ".join(f"{k} {v}" for k, v in nginx_outcomes.most_common()) + ".")
    L.append("")
    L.append(f"irisgate's requests table matched {matched}/{len(recs)} requests; it spent more than "
             f"the model on {len(excess)} requests ({sum(r['gate_spent'] - cost_of[id(r)] for r in excess)} "
             f"queries) and less on {len(under)} ({sum(cost_of[id(r)] - r['gate_spent'] for r in under)}).")
    for r in excess[:15]:
        key = r["canon"][0] + "?" + urllib.parse.urlencode(r["canon"][1])
        src = {(f"t={x['t'] - t0:.2f}s..{x['t_done'] - t0:.2f}s {x['user']} {x['kind']} "
                f"{x.get('gate_outcome')}") for x in r.get("model_from") or [] if x}
        L.append(f"- excess: t={r['t'] - t0:.2f}s {r['user']} {r['kind']} {r.get('gate_outcome')} "
                 f"spent {r['gate_spent']} (model {cost_of[id(r)]}): {key[:160]}; the model had "
                 f"it fresh from: {'; '.join(sorted(src))[:400]}")
    for r in under[:5]:
        key = r["canon"][0] + "?" + urllib.parse.urlencode(r["canon"][1])
        L.append(f"- below the model: t={r['t'] - t0:.2f}s {r['user']} {r['kind']} "
                 f"{r.get('gate_outcome')} spent {r['gate_spent']} (model {cost_of[id(r)]}): {key[:160]}")
    for f_ in run.failures[:10]:
        L.append(f"- failure: {f_[:600]}")
    text = "\n".join(L) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print(text)
    ok = not bad and not diff_dom and not run.failures
    sys.exit(0 if ok else 3)


if __name__ == "__main__":
    main()
