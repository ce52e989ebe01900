"""Turns the JSON lines of a benchmark run into the markdown tables of results-issue2.md.

usage: python3 report.py RESULTS.jsonl > results-issue2.md
"""
import json
import sys


def load(path):
    rows = [json.loads(line) for line in open(path) if line.startswith("{")]
    proc = {r["case"]: r for r in rows if r.get("bench") == "process"}
    other = {r["bench"]: r for r in rows if r.get("bench") != "process"}
    return proc, other


def ms(r):
    cpu = f", CPU {r['cpu_median_ms']:.0f}" if "cpu_median_ms" in r else ""
    return f"{r['median_ms']:.1f} ms (min {r['min_ms']:.1f}{cpu})"


def cpu_ratio(a, b):
    if "cpu_median_ms" in a and "cpu_median_ms" in b:
        return f"{a['cpu_median_ms'] / b['cpu_median_ms']:.2f}"
    return "—"


def main():
    proc, other = load(sys.argv[1])
    env = other.get("env", {})
    out = []
    out.append("| # | benchmark (100×768 F32 prompts) | pvec, median wall | numpy + safetensors, median wall "
               "| pvec / numpy wall | pvec / numpy CPU | goal (wall) | met |")
    out.append("|---|---|---|---|---|---|---|---|")

    def pair(num, label, pv, py, goal, limit):
        if pv not in proc or py not in proc:
            return
        ratio = proc[pv]["median_ms"] / proc[py]["median_ms"]
        out.append(f"| {num} | {label} | {ms(proc[pv])} | {ms(proc[py])} | {ratio:.2f} | "
                   f"{cpu_ratio(proc[pv], proc[py])} | {goal} | "
                   f"{'—' if limit == float('inf') else 'yes' if ratio <= limit else 'no'} |")

    pair(1, "`pvec add a b --lambda 0.5 --name c` + `pvec export c` (2 processes, fresh registry copy; "
            "derives and stores both task vectors) vs load 3 files, 0.5·((a−i)+(b−i)), save",
         "pvec-add-export", "numpy-add-export", "< 1/3", 1 / 3)
    pair("1b", "same, vectors of a and b already stored (second `add` with another name)",
         "pvec-add-export-warm", "numpy-add-export", "—", float("inf"))
    pair(2, "`pvec cos --matrix` over 200 stored vectors (prints the 200×200 table) vs load 200 files, "
            "normalise, X·Xᵀ, print", "pvec-cos-matrix", "numpy-cos-matrix", "≤ 1", 1.0)
    if "pvec-startup" in proc and "python-startup" in proc:
        out.append(f"| — | process start-up: `pvec --version` vs `python3 -c 'import numpy, safetensors.numpy'` | "
                   f"{ms(proc['pvec-startup'])} | {ms(proc['python-startup'])} | "
                   f"{proc['pvec-startup']['median_ms'] / proc['python-startup']['median_ms']:.2f} | "
                   f"{cpu_ratio(proc['pvec-startup'], proc['python-startup'])} | — | — |")
    out.append("")

    ing = other.get("ingest")
    if ing:
        out.append(f"Ingest, library level, {ing['prompts']:,} distinct prompts "
                   f"({ing['raw_mb']:,.0f} MB canonical), one thread, "
                   f"putBlob + writeManifest{' + updateRef' if ing['refs'] else ''}:")
        out.append("")
        out.append("| 3 | what | prompts/s | MB/s |")
        out.append("|---|---|---|---|")
        out.append(f"| | pvec ingest (per prompt p50 {ing['ingest_per_prompt']['p50_us'] / 1000:.1f} ms, "
                   f"p99 {ing['ingest_per_prompt']['p99_us'] / 1000:.1f} ms) | "
                   f"{ing['ingest_prompts_per_s']:.0f} | {ing['ingest_mb_per_s']:.1f} |")
        per = ing["raw_mb"] / ing["prompts"]
        out.append(f"| | SHA-256 of the same bytes | {ing['sha256_mb_per_s'] / per:.0f} | {ing['sha256_mb_per_s']:.0f} |")
        out.append(f"| | write + fsync + rename + fsync folder of the same bytes | "
                   f"{ing['file_write_prompts_per_s']:.0f} | {ing['file_write_fsync_rename_mb_per_s']:.1f} |")
        out.append(f"| | zlib level 6, plain (sample of {ing['size_sample']}) | "
                   f"{ing['deflate_plain_mb_per_s'] / per:.0f} | {ing['deflate_plain_mb_per_s']:.1f} |")
        out.append(f"| | zlib level 6, byte-shuffled (same sample) | "
                   f"{ing['deflate_shuffled_mb_per_s'] / per:.0f} | {ing['deflate_shuffled_mb_per_s']:.1f} |")
        if "store_encoder_mb_per_s" in ing:
            out.append(f"| | the store's encoder (shuffled, RLE / level 1), same sample | "
                       f"{ing['store_encoder_mb_per_s'] / per:.0f} | {ing['store_encoder_mb_per_s']:.1f} |")
        ph = ing["phase_s"]
        out.append("")
        out.append(f"Time split: putBlob {ph['put_blob']:.1f} s, writeManifest {ph['write_manifest']:.1f} s, "
                   f"updateRef {ph['update_ref']:.1f} s.")
        out.append("")
        out.append("| on disk | MB | of raw |")
        out.append("|---|---|---|")
        out.append(f"| canonical bytes (raw) | {ing['raw_mb']:,.1f} | 100 % |")
        out.append(f"| plain zlib level 6 only (estimated from the sample) | {ing['disk_plain_est_mb']:,.1f} | "
                   f"{ing['ratio_plain'] * 100:.1f} % |")
        out.append(f"| byte-shuffled zlib level 6 only (estimated from the sample) | {ing['disk_shuffled_est_mb']:,.1f} | "
                   f"{ing['ratio_shuffled'] * 100:.1f} % |")
        out.append(f"| the store's objects (its encoder, measured) | {ing['disk_objects_mb']:,.1f} | "
                   f"{ing['disk_objects_mb'] / ing['raw_mb'] * 100:.1f} % |")
        out.append(f"| manifests / catalog + ref log | {ing['disk_manifests_mb']:,.1f} / "
                   f"{ing['disk_catalog_and_logs_mb']:,.1f} | |")
        out.append("")

    lk = other.get("lookup")
    if lk:
        out.append(f"Lookup, library level, {lk['artifacts']:,} artifacts in the catalog, "
                   f"{lk['names']:,} names, chain {lk['depth']} deep:")
        out.append("")
        out.append("| 4 | call | p50 | p99 | calls |")
        out.append("|---|---|---|---|---|")
        for key, label in [("resolve_name", "`resolve(name)`"), ("resolve_prefix12", "`resolve(12-hex id prefix)`"),
                           ("lineage_tip", f"`lineage(of:)` {lk['depth']}-deep chain"),
                           ("resolve_and_lineage_tip", "`resolve` + `lineage`")]:
            r = lk[key]
            out.append(f"| | {label} | {r['p50_us']:.0f} µs | {r['p99_us']:.0f} µs | {r['n']:,} |")
        out.append(f"| | `Registry.open` read-write / read-only | {lk['open_readwrite_ms']:.1f} ms | "
                   f"{lk['open_readonly_ms']:.1f} ms | 1 |")
        for case, label in [("pvec-lineage-cli", "`pvec lineage tip` (whole process)"),
                            ("pvec-show-cli", "`pvec show eval000100` (whole process)")]:
            if case in proc:
                out.append(f"| | {label} | {proc[case]['median_ms']:.1f} ms (median) | | {proc[case]['runs']} |")
        out.append("")

    if env:
        out.append(f"Machine: {env.get('machine', '?')}. pvec BLAS: {env.get('pvec_blas', '?')}. "
                   f"numpy BLAS: {env.get('numpy_blas', '?')}. Command: `{env.get('command', 'Benchmarks/run.sh')}`, "
                   f"{env.get('runs', '?')} timed runs per process case (medians; cases interleaved). "
                   f"Load average when the run started: {env.get('load', '?')} (other engineers' builds share the 2 cores).")
    print("\n".join(out))


if __name__ == "__main__":
    main()
