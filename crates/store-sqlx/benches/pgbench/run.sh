#!/usr/bin/env bash
# pgbench baseline for docs/benchmarks.md: the reserve+settle SQL shape of store-sqlx on a
# scratch database, one hot wallet and 10,000 wallets, at 1, 16 and 64 clients.
# Usage: crates/store-sqlx/benches/pgbench/run.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-10}"
db="purse_pgbench_$$"
pg=(-h 127.0.0.1 -U postgres)
createdb "${pg[@]}" "$db"
trap 'dropdb "${pg[@]}" --force "$db"' EXIT
psql "${pg[@]}" -q -d "$db" -f ../../../../migrations/postgres/0001_init.sql
psql "${pg[@]}" -q -d "$db" <<'SQL'
INSERT INTO wallet (wallet_id, organization_id, owner_type, owner_id, name, status, currency, rate_amount, paid, granted, held, debt, total_spent, total_allocated, expiration_at, activates_at, priority, fee_types, rules, has_interval_rule, created_at, updated_at)
SELECT 'wal_' || i, 'org_pgbench', 'user', 'user_' || i, NULL, 'ACTIVE', 'USD', 1, 1000000000, 0, 0, 0, 0, 0, NULL, NULL, 0, '[]', '[]', false, 0, 0
FROM generate_series(0, 9999) AS i;
INSERT INTO wallet (wallet_id, organization_id, owner_type, owner_id, name, status, currency, rate_amount, paid, granted, held, debt, total_spent, total_allocated, expiration_at, activates_at, priority, fee_types, rules, has_interval_rule, created_at, updated_at)
VALUES ('wal_hot', 'org_pgbench', 'user', 'user_hot', NULL, 'ACTIVE', 'USD', 1, 1000000000, 0, 0, 0, 0, 0, NULL, NULL, 0, '[]', '[]', false, 0, 0);
ANALYZE;
SQL
sed "s/WALLET/'wal_hot'/g; s/OWNER/'user_hot'/g" reserve_settle.sql > "/tmp/$db.hot.sql"
sed "s/WALLET/('wal_' || CAST(:w AS text))/g; s/OWNER/('user_' || CAST(:w AS text))/g" reserve_settle.sql > "/tmp/$db.many.sql"
for shape in hot many; do
  for clients in 1 16 64; do
    tps=$(pgbench "${pg[@]}" -n -M prepared -c "$clients" -j "$(( clients < 2 ? 1 : 2 ))" -T "$seconds" -f "/tmp/$db.$shape.sql" "$db" 2>&1 \
      | tee /dev/stderr | awk "/^tps/ {print \$3; exit}")
    echo "pgbench $shape clients=$clients pairs_per_second=$tps"
  done
done
rm -f "/tmp/$db.hot.sql" "/tmp/$db.many.sql"
