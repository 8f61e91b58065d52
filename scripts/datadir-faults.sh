#!/usr/bin/env bash
# The data folder's fault scenarios (issue 16), with the real `etl` against the real PostgreSQL; prints one line of
# figures per scenario. ETL_REPO selects the checkout to run (default: this one), so a commit before and after a
# change can be compared. Needs PostgreSQL at PGHOST/PGPORT (default 127.0.0.1:5432, user postgres, database test);
# the full-disk scenario needs root (it mounts an 8 MB tmpfs and unmounts it at the end). ROUNDS (default 10).
set -uo pipefail
REPO=${ETL_REPO:-$(cd "$(dirname "$0")/.." && pwd)}
ROUNDS=${ROUNDS:-10}
SUITE="$REPO/test/cli/bad-inputs/ages.json"
[ -f "$SUITE" ] || SUITE="$(cd "$(dirname "$0")/.." && pwd)/test/cli/bad-inputs/ages.json"
export PATH="$REPO/node_modules/.bin:$PATH" PGHOST=${PGHOST:-127.0.0.1} PGUSER=${PGUSER:-postgres} PGDATABASE=${PGDATABASE:-test}
SCHEMA=datadir_faults_$$
export PGOPTIONS="-c search_path=$SCHEMA"
etl() { node "$REPO/bin/etl.js" "$@"; }
WORK=$(mktemp -d /tmp/datadir-faults-XXXXXX)
MNT=""
cleanup() { [ -n "$MNT" ] && umount "$MNT" 2>/dev/null; rm -rf "$WORK"; psql -qX -c "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1; }
trap cleanup EXIT
psql -qX -v ON_ERROR_STOP=1 >/dev/null <<SQL || exit 1
CREATE SCHEMA $SCHEMA;
CREATE TABLE $SCHEMA.good AS SELECT g + 40 AS age, g % 2 AS target FROM generate_series(1, 10) g;
CREATE TABLE $SCHEMA.bad AS SELECT g AS age, g % 2 AS target FROM generate_series(1, 10) g;
CREATE TABLE $SCHEMA.a AS SELECT g AS id, 'a' || g AS v FROM generate_series(1, 100000) g;
CREATE TABLE $SCHEMA.b AS SELECT g AS id, 'b' || g AS v FROM generate_series(1, 60000) g;
CREATE TABLE $SCHEMA.big AS SELECT g AS id, repeat('x', 30) AS v FROM generate_series(1, 300000) g;
SQL
mb() { [ $# -eq 0 ] && { printf '0.0'; return; }; du -cb "$@" 2>/dev/null | tail -1 | awk '{printf "%.1f", $1 / 1048576}'; }
store_rows() { node -e "try{console.log(JSON.parse(require('fs').readFileSync('$1/feature_store/prostate_group_1/manifest.json')).rows)}catch{console.log(0)}"; }
tmp_files() { find "$1" -name '*.tmp' 2>/dev/null | wc -l; }

# 1. The stale-results sequence: rows that were never validated must not load.
d=$WORK/stale; mkdir -p $d; cd $d
etl extract --table good --quiet >/dev/null 2>&1; etl validate --suite $SUITE --quiet >/dev/null 2>&1; etl meta-validate --suite $SUITE --quiet >/dev/null 2>&1
etl extract --table bad --quiet >/dev/null 2>&1; etl transform --quiet >/dev/null 2>&1; t=$?; etl load --suite $SUITE --quiet >/dev/null 2>&1; l=$?
echo "stale results: transform exit $t, load exit $l; rows expected in the store 0, rows held $(store_rows $d/data)"

# 2. A tampered cache entry over failing data: etl validate must fail (exit 3).
d=$WORK/cache; mkdir -p $d; cd $d
etl extract --table bad --quiet >/dev/null 2>&1; etl validate --suite $SUITE --quiet >/dev/null 2>&1
for f in data/cache/*.json; do node -e "const fs=require('fs');const e=JSON.parse(fs.readFileSync('$f'));e.result.success=true;const s=e.result.statistics;s.successful_expectations=s.evaluated_expectations;s.unsuccessful_expectations=0;fs.writeFileSync('$f',JSON.stringify(e))"; done
etl validate --suite $SUITE --quiet >/dev/null 2>&1
echo "tampered cache entry: etl validate exit $? (3 expected: the data fails)"

# 3. Two extracts at once into one data folder, ROUNDS rounds: the stage file must match its sidecar.
d=$WORK/concurrent; mkdir -p $d; cd $d; bad=0; fails=0
for i in $(seq 1 $ROUNDS); do
  etl extract --table a --quiet >/dev/null 2>&1 & p1=$!; etl extract --table b --quiet >/dev/null 2>&1 & p2=$!
  wait $p1 || fails=$((fails + 1)); wait $p2 || fails=$((fails + 1))
  lines=$(($(wc -l < data/extracted.csv) - 1)); side=$(node -e "console.log(JSON.parse(require('fs').readFileSync('data/extracted.schema.json')).rows)")
  [ "$lines" = "$side" ] || bad=$((bad + 1))
done
echo "two extracts at once, $ROUNDS rounds: $bad rounds with extracted.csv not what its sidecar says, $fails runs failed"

# 4. kill -9 mid-extract ROUNDS times, then one clean run: what is left behind.
d=$WORK/kill; mkdir -p $d; cd $d
for i in $(seq 1 $ROUNDS); do
  node "$REPO/bin/etl.js" extract --table big --batch-size 200 --quiet >/dev/null 2>&1 & p=$!
  for j in $(seq 1 400); do ls data/extracted.csv.$p.*.tmp >/dev/null 2>&1 && break; sleep 0.01; done
  sleep 0.$((RANDOM % 5 + 1)); kill -9 $p 2>/dev/null; wait $p 2>/dev/null
done
before_files=$(tmp_files $d/data); before_mb=$(mb $(find $d/data -name '*.tmp'))
etl extract --table good --quiet >/dev/null 2>&1
echo "kill -9 x$ROUNDS mid-extract: $before_files .tmp files ($before_mb MB) after the kills; after the next run $(tmp_files $d/data) files ($(mb $(find $d/data -name '*.tmp' 2>/dev/null)) MB)"

# 5. Run records: one cut short, one left Running by a dead process whose pid (1) was reused.
d=$WORK/records; mkdir -p $d/data/runs; cd $d
printf '{"version": 1, "id": "20260101T000000000Z-trunc' > data/runs/20260101T000000000Z-truncate.json
echo "{\"version\":1,\"id\":\"20260101T000001000Z-pidreuse\",\"flow\":\"extract\",\"state\":\"Running\",\"start\":\"2020-01-01T00:00:00.000Z\",\"tasks\":[],\"summary\":{},\"hooks\":[],\"notifications\":[],\"host\":\"$(hostname)\",\"pid\":1}" > data/runs/20260101T000001000Z-pidreuse.json
listed=$(etl runs --json 2>/dev/null | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const r=JSON.parse(s);console.log(r.length+' listed; pid-1 record '+(r.find(x=>x.id.endsWith('pidreuse'))?.state)+', truncated record '+(r.find(x=>x.id.endsWith('truncate'))?.state??'missing'))})")
one=$(etl runs 20260101T000000000Z-truncate 2>&1 | grep -o 'ETL_[A-Z_]*: .\{0,60\}' | head -1)
echo "run records (2 files): $listed; etl runs <truncated id>: $one"

# 6. --timeout: what the record says.
d=$WORK/timeout; mkdir -p $d; cd $d
etl extract --table big --batch-size 10 --timeout 0.5 --quiet >/dev/null 2>&1; x=$?
code=$(node -e "const fs=require('fs');const d='data/runs/';const f=fs.readdirSync(d).filter(n=>n.endsWith('.json')).sort().pop();console.log(JSON.parse(fs.readFileSync(d+f)).error?.code)")
echo "--timeout 0.5: exit $x, the record says $code"

# 7. A full disk: an 8 MB tmpfs, a 12 MB extract.
if [ "$(id -u)" = 0 ]; then
  MNT=$WORK/tmpfs; mkdir -p $MNT; mount -t tmpfs -o size=8m tmpfs $MNT
  cd $WORK; etl extract --table big --data-dir $MNT/data --quiet >/dev/null 2>$WORK/full.err; x=$?
  echo "full disk: exit $x ($(grep -o 'ETL_[A-Z_]*' $WORK/full.err | head -1)), left behind $(mb $(find $MNT/data -type f -name 'extracted*')) MB of stage files"
  umount $MNT; MNT=""
fi
