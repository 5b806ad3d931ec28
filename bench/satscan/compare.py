#!/usr/bin/env python3
"""Our prospective space-time permutation scan beside SaTScan's, run by run.

Usage: [BRUTE=1] [OURS_MIN_CASES=2] compare.py OUT_DIR

OUT_DIR holds what `warning::satscan::export_for_satscan` wrote (county.geo, <run>.cas,
<run>.prm, ours.jsonl) and what SaTScan wrote for each run (<run>.col.txt, <run>.gis.txt,
<run>.txt). Python 3 standard library only.

For every (day, category) run it prints our most likely cluster and SaTScan's, whether they are
the same cylinder, and the LLR difference, then a summary. Every cylinder is also re-scored here
from the case file (c, mu = sum C_z * sum C_d / C, the Poisson LLR), so a reported figure that
does not match its own cylinder is caught, and every disagreement is classified:

- tie: both cylinders have the same LLR (to SaTScan's 6 printed decimals);
- zero-case locations: the same cylinder up to locations without cases in the window
  (they change neither c nor mu);
- ours < 2 cases: our cluster has one case, below SaTScan's minimum of 2 for high-rate
  clusters (MinimumCasesInHighRateClusters cannot be set below 2; scan.rs has the same minimum
  since 35895fe);
- outside our zones / outside SaTScan's: the other's cylinder is not one the program builds
  (not a nearest-neighbour prefix within the 50% limit, longer than max_days, ...);
- OUR MISS / SATSCAN MISS: the other's cylinder is in the program's own search space and
  scores higher: a bug.
"""

import json
import math
import os
import sys
from collections import defaultdict
from datetime import date, timedelta


def llr(c, mu, total):
    if not c > mu:
        return 0.0
    v = c * math.log(c / mu)
    rest = total - c
    if rest > 0:
        v += rest * math.log(rest / (total - mu))
    return v


def read_table(path):
    """SaTScan's ASCII output with column headers: whitespace-separated, one header line."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        lines = [l.split() for l in f if l.strip()]
    if not lines:
        return []
    head = lines[0]
    return [dict(zip(head, row)) for row in lines[1:]]


def iso(satscan_date):
    y, m, d = satscan_date.split("/")
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"


class Run:
    def __init__(self, out, rec, geo, order):
        self.rec = rec
        self.name = rec["run"]
        self.geo = geo
        self.order = order
        self.counts = defaultdict(int)  # (loc, date) -> n
        with open(os.path.join(out, self.name + ".cas")) as f:
            for line in f:
                loc, n, day = line.split()
                self.counts[(loc, iso(day))] += int(n)
        self.loc_tot = defaultdict(int)
        self.day_tot = defaultdict(int)
        for (loc, day), n in self.counts.items():
            self.loc_tot[loc] += n
            self.day_tot[day] += n
        self.total = sum(self.loc_tot.values())

    def score(self, locs, start):
        """(observed, expected, llr) of the cylinder locs x [start, end of window]."""
        c = sum(n for (loc, d), n in self.counts.items() if loc in locs and d >= start)
        days = sum(n for d, n in self.day_tot.items() if d >= start)
        spatial = sum(self.loc_tot[l] for l in locs)
        mu = spatial * days / self.total
        return c, mu, llr(c, mu, self.total)

    def our_zone(self, center, k):
        """The k nearest locations of center as scan.rs orders them (squared distance, the
        center first on a tie, then file order) and whether they fit the 50% limit."""
        cx, cy = self.geo[center]
        ordered = sorted(
            self.order,
            key=lambda l: (
                (self.geo[l][0] - cx) ** 2 + (self.geo[l][1] - cy) ** 2,
                l != center,
                self.order.index(l),
            ),
        )
        zone = ordered[:k]
        fits = all(
            sum(self.loc_tot[l] for l in ordered[: i + 1]) <= 0.5 * self.total
            for i in range(k)
        )
        return zone, fits

    def brute_force(self, min_cases=1, max_days=7):
        """Best cylinder over every circle (nearest-neighbour prefix under 50%) x 1..max_days,
        scored here: a third opinion, run only where the two programs disagree."""
        end = date.fromisoformat(self.rec["day"])
        starts = [(end - timedelta(days=i)).isoformat() for i in range(max_days - 1, -1, -1)]
        recent = defaultdict(lambda: [0] * len(starts))
        for (loc, d), n in self.counts.items():
            if d in starts:
                recent[loc][starts.index(d)] += n
        day_suffix = [sum(self.day_tot.get(d, 0) for d in starts[i:]) for i in range(len(starts))]
        best = (0.0, None)
        for center in self.order:
            cx, cy = self.geo[center]
            ordered = sorted(
                self.order,
                key=lambda l: (
                    (self.geo[l][0] - cx) ** 2 + (self.geo[l][1] - cy) ** 2,
                    l != center,
                ),
            )
            spatial = 0
            acc = [0] * len(starts)
            for k, loc in enumerate(ordered):
                if spatial + self.loc_tot[loc] > 0.5 * self.total:
                    break
                spatial += self.loc_tot[loc]
                for i, n in enumerate(recent.get(loc, ())):
                    acc[i] += n
                for i in range(len(starts)):
                    c = sum(acc[i:])
                    if c < min_cases:
                        continue
                    v = llr(c, spatial * day_suffix[i] / self.total, self.total)
                    if v > best[0] + 1e-9:
                        best = (v, (center, k + 1, starts[i], c))
        return best


def sat_default_p(p_mc, p_gumbel, replicas):
    """SaTScan's default p-value: Gumbel when the Monte Carlo rank is below 10."""
    rank = round(p_mc * (replicas + 1))
    if p_gumbel is not None and rank < 10:
        return p_gumbel
    return p_mc


def fmt_p(p):
    if p is None:
        return "-"
    return f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def fmt_ri(p):
    if not p:
        return "-"
    ri = 1.0 / p
    return f"{ri:.0f}" if ri < 1e5 else f"{ri:.0e}"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "target/satscan"
    geo, order = {}, []
    with open(os.path.join(out, "county.geo")) as f:
        for line in f:
            loc, x, y = line.split()
            geo[loc] = (float(x), float(y))
            order.append(loc)
    recs = [json.loads(l) for l in open(os.path.join(out, "ours.jsonl")) if l.strip()]

    brute = os.environ.get("BRUTE", "0") == "1"
    ours_min = int(os.environ.get("OURS_MIN_CASES", "2"))
    checked, agreed = defaultdict(int), defaultdict(int)
    rows, notes, replicas = [], defaultdict(int), set()
    bugs, injected_rows = [], []
    for rec in recs:
        run = Run(out, rec, geo, order)
        ours = rec["ours"]
        with open(os.path.join(out, run.name + ".prm")) as f:
            reps = next(int(l.split("=")[1]) for l in f if l.startswith("MonteCarloReps="))
        replicas.add(reps)
        col = read_table(os.path.join(out, run.name + ".col.txt"))
        gis = read_table(os.path.join(out, run.name + ".gis.txt"))
        sat = None
        if col is None:
            notes["satscan failed (no .col.txt)"] += 1
        else:
            top = [r for r in col if r.get("CLUSTER") == "1"]
            if top:
                t = top[0]
                locs = [r["LOC_ID"] for r in (gis or []) if r.get("CLUSTER") == "1"]
                gum = t.get("GBL_PVALUE")
                sat = {
                    "center": t["LOC_ID"],
                    "locations": locs,
                    "start": iso(t["START_DATE"]),
                    "end": iso(t["END_DATE"]),
                    "observed": int(t["OBSERVED"]),
                    "expected": float(t["EXPECTED"]),
                    "llr": float(t.get("TEST_STAT", t.get("LLR"))),
                    "p_mc": float(t["P_VALUE"]),
                    "p_gumbel": float(gum) if gum not in (None, "") else None,
                    "radius": float(t["RADIUS"]),
                }
                sat["p"] = sat_default_p(sat["p_mc"], sat["p_gumbel"], reps)
                sat["days"] = (
                    date.fromisoformat(sat["end"]) - date.fromisoformat(sat["start"])
                ).days + 1

        row = {"rec": rec, "ours": ours, "sat": sat}
        # Each side's figures against its own cylinder, re-scored here.
        if ours:
            c, mu, v = run.score(set(ours["locations"]), ours["start"])
            if c != ours["observed"] or abs(mu - ours["expected"]) > 1e-9 * max(1, mu) or abs(
                v - ours["llr"]
            ) > 1e-9 * max(1, v):
                bugs.append(
                    f"{run.name}: ours reports c={ours['observed']} mu={ours['expected']} "
                    f"llr={ours['llr']} for its cylinder, re-scored c={c} mu={mu} llr={v}"
                )
        if sat:
            c, mu, v = run.score(set(sat["locations"]), sat["start"])
            sat["rescored_llr"] = v
            if c != sat["observed"] or abs(mu - sat["expected"]) > 0.006 or abs(v - sat["llr"]) > 2e-6:
                notes["SaTScan's figures differ from its own cylinder re-scored"] += 1
                bugs.append(
                    f"{run.name}: SaTScan reports c={sat['observed']} mu={sat['expected']} "
                    f"llr={sat['llr']}, re-scored c={c} mu={mu:.4f} llr={v:.6f}"
                )
        verdict = ""
        if ours and sat:
            same = set(ours["locations"]) == set(sat["locations"]) and ours["start"] == sat["start"]
            nz = lambda ls: {l for l in ls if run.loc_tot[l] > 0}
            same_eff = nz(ours["locations"]) == nz(sat["locations"]) and ours["start"] == sat["start"]
            d = ours["llr"] - sat["llr"]
            row.update(same=same, same_eff=same_eff, dllr=d)
            if same:
                verdict = "same"
            elif same_eff:
                verdict = "same but zero-case locations"
            elif abs(d) <= 2e-6:
                verdict = "tie (equal LLR)"
            elif d > 0:
                if ours["observed"] < 2:
                    verdict = "ours < 2 cases (SaTScan's minimum)"
                else:
                    verdict = "SATSCAN MISS?"
            else:
                k = len(sat["locations"])
                zone, fits = run.our_zone(sat["center"], k)
                if sat["days"] is None or sat["days"] > 7:
                    verdict = "outside our zones (duration)"
                elif set(zone) != set(sat["locations"]) or not fits:
                    verdict = "outside our zones (circle)"
                else:
                    verdict = "OUR MISS"
            if verdict.endswith("?") or verdict == "OUR MISS":
                best, where = run.brute_force()
                verdict += f" (brute force: {best:.6f} at {where})"
                bugs.append(f"{run.name}: {verdict}; ours {ours}; SaTScan {sat}")
        elif ours and not sat:
            verdict = "SaTScan: no cluster" + (" (ours < 2 cases)" if ours["observed"] < 2 else "")
        elif sat and not ours:
            verdict = "ours: no cluster"
        else:
            verdict = "neither has a cluster"
        row["verdict"] = verdict
        notes[verdict.split(" (brute")[0]] += 1
        if brute:
            # A third opinion: every cylinder scored here, with our minimum (OURS_MIN_CASES:
            # 2 since scan.rs's MIN_CASES, 1 before) and SaTScan's (2 cases).
            for label, side_, mc in (("ours", ours, ours_min), ("SaTScan", sat, 2)):
                best, where = run.brute_force(min_cases=mc)
                got = side_["llr"] if side_ else 0.0
                checked[label] += 1
                if abs(best - got) > 2e-6:
                    bugs.append(f"{run.name}: {label} LLR {got:.6f}, brute force "
                                f"(min {mc} cases) {best:.6f} at {where}")
                else:
                    agreed[label] += 1
        rows.append(row)

        for inj in rec["injected"]:
            if not inj["ends_today"]:
                continue
            vill = set(inj["villages"])
            hit = lambda c: bool(c) and c["p"] < 0.05 and bool(vill & set(c["locations"]))
            injected_rows.append((rec, inj, ours, sat, hit(ours), hit(sat)))

    # --- the table --------------------------------------------------------------------------
    def side(c):
        if not c:
            return f"{'-':>7} {'':>3} {'':>2} {'':>4} {'':>7} {'':>8} {'':>7} {'':>6}"
        return (
            f"{c['center']:>7} {len(c['locations']):>3} {c.get('days') or 0:>2} {c['observed']:>4} "
            f"{c['expected']:>7.2f} {c['llr']:>8.3f} {fmt_p(c['p']):>7} {fmt_ri(c['p']):>6}"
        )

    hdr = f"{'center':>7} {'loc':>3} {'d':>2} {'obs':>4} {'exp':>7} {'LLR':>8} {'p':>7} {'RI':>6}"
    print(f"{'day':10} {'category':10} {'kind':5} | ours: {hdr} | SaTScan: {hdr} | {'ΔLLR':>9} verdict")
    for r in rows:
        rec = r["rec"]
        d = r.get("dllr")
        ds = f"{d:>9.6f}" if d is not None else f"{'-':>9}"
        kind = "end" if rec["kind"] == "cluster end" else "quiet"
        if any(i["ends_today"] for i in rec["injected"]):
            kind = "INJ"
        print(
            f"{rec['day']:10} {rec['category']:10} {kind:5} | ours: {side(r['ours'])} | "
            f"SaTScan: {side(r['sat'])} | {ds} {r['verdict']}"
        )

    # --- summary ----------------------------------------------------------------------------
    both = [r for r in rows if r["ours"] and r["sat"]]
    n = len(rows)
    print()
    print(f"runs: {n} (day x category), both with a cluster: {len(both)}; replicas: "
          f"{', '.join(map(str, sorted(replicas)))}")
    if both:
        same = sum(r["same"] for r in both)
        same_eff = sum(r["same_eff"] for r in both)
        same_llr = sum(abs(r["dllr"]) <= 2e-6 for r in both)
        print(f"same most likely cluster: {same}/{len(both)} ({100 * same / len(both):.1f}%); "
              f"same up to zero-case locations: {same_eff}/{len(both)}; "
              f"same LLR (|Δ| <= 2e-6): {same_llr}/{len(both)}")
        dl = [abs(r["dllr"]) for r in both]
        dl_same = [abs(r["dllr"]) for r in both if r["same_eff"]]
        print(f"max |ΔLLR|: {max(dl):.6f} over all; {max(dl_same or [0]):.2e} on the same cylinder "
              f"(SaTScan prints 6 decimals)")
        sig = lambda c: c["p"] < 0.05
        agree05 = sum(sig(r["ours"]) == sig(r["sat"]) for r in both)
        ri = lambda c: 1 / c["p"] >= 365
        agree_ri = sum(ri(r["ours"]) == ri(r["sat"]) for r in both)
        print(f"p < 0.05 on both or neither: {agree05}/{len(both)}; "
              f"recurrence >= 365 days on both or neither: {agree_ri}/{len(both)}")
        lp = [
            (math.log10(r["ours"]["p"]) - math.log10(r["sat"]["p"]))
            for r in both
            if r["same_eff"] and r["ours"]["p"] < 0.05 and r["sat"]["p"] < 0.05
        ]
        if lp:
            lp.sort()
            print(f"same cylinder, both p < 0.05: log10(p ours / p SaTScan) median "
                  f"{lp[len(lp) // 2]:+.2f}, range {lp[0]:+.2f} .. {lp[-1]:+.2f} (n = {len(lp)})")
        off = [r for r in both if (r["ours"]["p"] < 0.05) != (r["sat"]["p"] < 0.05)
               or (1 / r["ours"]["p"] >= 365) != (1 / r["sat"]["p"] >= 365)]
        for r in off:
            print(f"  across p 0.05 or recurrence 365: {r['rec']['run']}: ours p {r['ours']['p']:.4f} "
                  f"(RI {1 / r['ours']['p']:.0f}), SaTScan p {r['sat']['p']:.4f} "
                  f"(RI {1 / r['sat']['p']:.0f}), {r['verdict']}")
        # Both p-values are Monte Carlo ones from rank 10 on.
        r_ = min(replicas)
        pmin = 10 / (r_ + 1)
        dp = [
            r["ours"]["p"] - r["sat"]["p"]
            for r in both
            if abs(r["dllr"]) <= 2e-6 and r["ours"]["p"] >= pmin and r["sat"]["p"] >= pmin
        ]
        if dp:
            m = sum(dp) / len(dp)
            sd = math.sqrt(sum((x - m) ** 2 for x in dp) / len(dp))
            print(f"Monte Carlo p (both >= {pmin:.3f}), equal LLR: mean(ours - SaTScan) {m:+.4f}, "
                  f"sd {sd:.4f} (n = {len(dp)}; two independent {r_}-replica estimates differ by "
                  f"sd <= {math.sqrt(0.5 / (r_ + 1)):.3f})")
        ties = [r for r in both if abs(r["dllr"]) <= 2e-6 and not r["same"]]
        if ties:
            more = sum(len(r["ours"]["locations"]) > len(r["sat"]["locations"]) for r in ties)
            extra = sum(len(r["ours"]["locations"]) - len(r["sat"]["locations"]) for r in ties)
            print(f"equal-LLR ties broken differently: {len(ties)}; ours lists more locations in {more} "
                  f"(+{extra} in all); SaTScan prefers the fewest locations")
    if brute:
        for label in ("ours", "SaTScan"):
            mc = ours_min if label == "ours" else 2
            print(f"brute force here (every circle x 1..7 days, at least {mc} cases) has the LLR of "
                  f"{label}'s most likely cluster on {agreed[label]}/{checked[label]} runs")
    print("verdicts:")
    for k, v in sorted(notes.items(), key=lambda kv: -kv[1]):
        print(f"  {v:4}  {k}")

    print()
    print("injected clusters on their last day (found: most likely cluster p < 0.05 touching its villages):")
    print(f"{'day':10} {'category':10} {'villages':28} {'cases':>5} | {'ours LLR':>8} {'p':>8} {'found':5} | {'SaTScan LLR':>11} {'p':>8} {'found':5}")
    sat_found = ours_found = sat_not_ours = 0
    for rec, inj, ours, sat, ho, hs in injected_rows:
        sat_found += hs
        ours_found += ho
        sat_not_ours += hs and not ho
        print(
            f"{rec['day']:10} {rec['category']:10} {','.join(inj['villages']):28} {inj['cases']:>5} | "
            f"{(ours or {}).get('llr', 0):>8.3f} {fmt_p((ours or {}).get('p')):>8} {'yes' if ho else 'no':5} | "
            f"{(sat or {}).get('llr', 0):>11.3f} {fmt_p((sat or {}).get('p')):>8} {'yes' if hs else 'no':5}"
        )
    print(f"injected clusters: {len(injected_rows)}; found by SaTScan {sat_found}, by ours "
          f"{ours_found}; found by SaTScan but not by ours: {sat_not_ours}")

    if bugs:
        print()
        print("CHECK (a figure that does not match its cylinder, or a cylinder missed):")
        for b in bugs:
            print("  " + b)
    return 0


if __name__ == "__main__":
    sys.exit(main())
