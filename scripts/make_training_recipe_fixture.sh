#!/usr/bin/env bash
# Records the canonical manifest of every artifact a fixed set of tiny training runs stores
# (train, attempt incl. multi-task and --module, amp incl. --module, compt ssum/msum/mcat,
# meta-init reptile/fomaml, eval), one manifest per file, as fixtures/training-recipes/NN-NAME.json
# (NN: the step that made it; NAME: its ref name, or op-<id prefix> when unnamed) and
# fixtures/training-recipes/index.tsv (file, manifest id, the pvec command that made it).
#
# The typed training recipes must decode and re-encode each manifest to the same bytes
# (TrainingRecipeFixtureTests), and training on one machine is bit-reproducible, so the same
# commands give the same ids: `--check` reruns them into a fresh registry and compares.
#
# Usage (from the repository root, after swift build --build-tests):
#   scripts/make_training_recipe_fixture.sh           rewrite the fixture
#   scripts/make_training_recipe_fixture.sh --check   rerun and compare with the committed fixture
# Env: PVEC (binary, default .build/debug/pvec), PVEC_MODEL (model dir, as for pvec).
set -euo pipefail
cd "$(dirname "$0")/.."
PVEC=${PVEC:-.build/debug/pvec}
FIXTURE=fixtures/training-recipes
MODE=${1:-write}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pvec-training-fixture.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
OUT="$WORK/out"
mkdir -p "$OUT"
export PVEC_REGISTRY="$WORK/registry"

A=fixtures/tasks/movie-small
B=$FIXTURE/tasks/movie-b
TINY=(--steps 2 --batch 4 --max-length 24)
step=0

manifests() { (cd "$PVEC_REGISTRY/manifests" 2>/dev/null && find . -type f | sed 's|^\./||; s|/||' | sort) || true; }

# run ARGS...: runs `pvec ARGS`, then records every manifest it added.
run() {
    step=$((step + 1))
    local before after id name file
    before=$(manifests)
    if ! "$PVEC" "$@" > "$WORK/stdout" 2> "$WORK/stderr"; then
        echo "pvec $* failed:" >&2; cat "$WORK/stderr" >&2; exit 1
    fi
    after=$(manifests)
    for id in $(comm -13 <(echo "$before") <(echo "$after")); do
        name=$("$PVEC" show "$id" --json | jq -r '.names[0] // empty')
        if [ -z "$name" ]; then
            name="$("$PVEC" show "$id" --json | jq -r '.manifest.recipe.op')-${id:0:12}"
        fi
        file=$(printf '%02d-%s.json' "$step" "$name")
        cp "$PVEC_REGISTRY/manifests/${id:0:2}/${id:2}" "$OUT/$file"
        printf '%s\t%s\tpvec %s\n' "$file" "$id" "$*" >> "$OUT/index.tsv"
    done
}

"$PVEC" init > /dev/null
# Plain prompt tuning: seeded init, few-shot, dev with early stopping and epochs, --init (after-cls, the
# placement these fixtures were made with before prepend became the default).
run train --task $A/task.json --data $A/train.jsonl --name s1 --prompt-len 3 --init-seed 1 --placement after-cls "${TINY[@]}"
run train --task $A/task.json --data $A/train.jsonl --name s2 --prompt-len 3 --init-seed 2 --shots 4 --seed 3 --placement after-cls "${TINY[@]}"
run train --task $A/task.json --data $A/train.jsonl --name dv --prompt-len 2 --epochs 1 --batch 16 --max-length 24 \
    --dev $A/test.jsonl --eval-every 2 --patience 1 --lr 0.5 --weight-decay 0.001 --warmup 0.1 --clip 2 --temperature 0.1 --placement after-cls
run train --task $A/task.json --data $A/train.jsonl --name from-s1 --init s1 --placement after-cls "${TINY[@]}"
# ATTEMPT: one task; several tasks with one shared module; a new run from that module.
run attempt --task $A/task.json --data $A/train.jsonl --sources s1,s2 --name at --rank 4 "${TINY[@]}"
run attempt --tasks $A,$B --sources s1,s2 --name pre --rank 4 --shots 4 --cap 20 "${TINY[@]}"
run attempt --task $A/task.json --data $A/train.jsonl --sources s1,s2 --name ft --module pre.module --init s1 "${TINY[@]}"
# AMP: fresh module (max pooling), then retrained from it.
run amp --tasks $A,$B --sources s1,s2 --name amp --key-width 4 --pooling max "${TINY[@]}"
run amp --tasks $A,$B --sources s2,s1 --name amp2 --module amp.module --shots 4 "${TINY[@]}"
# ComPT: each composition; shared sources from the registry.
run compt --tasks $A,$B --name cps --composition ssum --num-sources 2 --prompt-len 2 "${TINY[@]}"
run compt --tasks $A,$B --name cpm --composition msum --num-sources 2 --prompt-len 2 --shots 4 "${TINY[@]}"
run compt --tasks $A,$B --name cpc --composition mcat --num-sources 2 --prompt-len 2 "${TINY[@]}"
run compt --tasks $A --name cpr --sources s1,s2 "${TINY[@]}"
# Meta-init: each method.
run meta-init --tasks $A,$B --name meta --method reptile --outer-steps 2 --inner-steps 1 --batch 4 --prompt-len 3 --max-length 24
run meta-init --tasks $A,$B --name metaf --method fomaml --outer-steps 2 --inner-steps 1 --batch 4 --init s1 --shots 4 --max-length 24
# Evaluations: a prompt, no prompt, an ATTEMPT mixture, a ComPT prompt.
run eval s1 --task $A/task.json --data $A/test.jsonl --limit 8 --max-length 24
run eval --no-prompt --task $A/task.json --data $A/test.jsonl --limit 8 --max-length 24
run eval at --task $A/task.json --data $A/test.jsonl --limit 8 --max-length 24
run eval cps.movie-b --task $A/task.json --data $A/test.jsonl --limit 8 --max-length 24 --temperature 0.1

case "$MODE" in
write)
    rm -f "$FIXTURE"/*.json "$FIXTURE"/index.tsv
    cp "$OUT"/* "$FIXTURE"/
    # Trained values depend on the OpenBLAS kernel (the CPU): the test compares ids only on
    # the kernel that made the fixture, and structure elsewhere.
    "${PVEC_BENCH:-.build/debug/pvec-bench}" blas | sed -E 's/.*; core ([^;]*);.*/\1/' > "$FIXTURE/blas-core.txt"
    echo "wrote $(ls "$OUT" | grep -c '\.json$') manifests to $FIXTURE"
    ;;
--check)
    if diff -r <(cd "$FIXTURE" && cat index.tsv) <(cat "$OUT/index.tsv") && \
       for f in "$OUT"/*.json; do cmp -s "$f" "$FIXTURE/$(basename "$f")" || { echo "differs: $(basename "$f")"; exit 1; }; done; then
        echo "same $(ls "$OUT" | grep -c '\.json$') manifests and ids as $FIXTURE"
    else
        echo "the training runs no longer give the fixture's manifests" >&2; exit 1
    fi
    ;;
*) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac
