//! The audit's tenancy check (invariant 7), the same SQL on both engines: records of one
//! organization that name a wallet or owner of another.

use ledger_core::error::StoreError;
use ledger_core::ports::CrossOrgReference;
use sqlx::Row;

use super::Db;
use crate::error::fail;

type Connection = <Db as sqlx::Database>::Connection;

/// History lines of a transaction on another organization's wallet, reservations and payment
/// sessions on another organization's wallet, and wallets owned by a user or team of another
/// organization (or by another organization), in one read.
const CROSS_ORG_SQL: &str = r#"
    SELECT DISTINCT 'transaction' AS kind, t.transaction_id AS id, t.organization_id AS org_id,
           w.wallet_id AS other_id, w.organization_id AS other_org_id
    FROM wallet_line l
    JOIN journal_transaction t ON t.transaction_id = l.transaction_id
    JOIN wallet w ON w.wallet_id = l.wallet_id
    WHERE w.organization_id <> t.organization_id
    UNION ALL
    SELECT 'reservation', r.reservation_id, r.organization_id, w.wallet_id, w.organization_id
    FROM reservation r
    JOIN wallet w ON w.wallet_id = r.wallet_id
    WHERE w.organization_id <> r.organization_id
    UNION ALL
    SELECT 'payment_session', s.payment_session_id, s.organization_id, w.wallet_id,
           w.organization_id
    FROM payment_session s
    JOIN wallet w ON w.wallet_id = s.wallet_id
    WHERE w.organization_id <> s.organization_id
    UNION ALL
    SELECT 'wallet_owner', w.wallet_id, w.organization_id, u.user_id, u.organization_id
    FROM wallet w
    JOIN app_user u ON w.owner_type = 'user' AND u.user_id = w.owner_id
    WHERE u.organization_id <> w.organization_id
    UNION ALL
    SELECT 'wallet_owner', w.wallet_id, w.organization_id, m.team_id, m.organization_id
    FROM wallet w
    JOIN team m ON w.owner_type = 'team' AND m.team_id = w.owner_id
    WHERE m.organization_id <> w.organization_id
    UNION ALL
    SELECT 'wallet_owner', w.wallet_id, w.organization_id, w.owner_id, w.owner_id
    FROM wallet w
    WHERE w.owner_type = 'organization' AND w.owner_id <> w.organization_id
    ORDER BY 1, 2, 4
"#;

/// Every cross-organization reference, sorted (kind, id, other id).
pub(super) async fn cross_org_references(
    connection: &mut Connection,
) -> Result<Vec<CrossOrgReference>, StoreError> {
    let rows = sqlx::query(CROSS_ORG_SQL)
        .fetch_all(&mut *connection)
        .await
        .map_err(fail("read cross-organization references"))?;
    rows.into_iter()
        .map(|row| {
            Ok(CrossOrgReference {
                kind: row.try_get("kind")?,
                id: row.try_get("id")?,
                org_id: row.try_get("org_id")?,
                other_id: row.try_get("other_id")?,
                other_org_id: row.try_get("other_org_id")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(fail("decode a cross-organization reference"))
}
