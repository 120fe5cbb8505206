/*-------------------------------------------------------------------------
 *
 * naming.c
 *		Agent names: ecs_generate_name(spirit, seed) and the generator that
 *		ecs_breed shares.
 *
 * A name is prefix + root [+ " " suffix] + " of the " [title " "] spirit,
 * e.g. "Swiftfang of the Grey Wolf".  Each part is one weighted draw from
 * the shared components (spirit_id NULL) and those of the spirit, in
 * component_id order; draw i of the name comes from ecs_random(seed, i):
 * 0 prefix, 1 root, 2 whether to add a suffix (1 in 4), 3 suffix, 4 title.
 * So a seed always gives the same name for the same components, and the
 * names match the SQL formulation the extension started with.
 *
 * Invariants
 *	- The spirit and its components are read with one SPI query (a saved
 *	  plan with $1), read_only, in the caller's snapshot, so privileges and
 *	  row-level security on the naming tables hold.
 *	- Parts read are cached for the backend (one cache, a child of
 *	  TopMemoryContext, at most NAME_CACHE_SLOTS spirits) and reused while
 *	  they are provably what the SPI query would read again:
 *	    . same user (privileges), and row-level security applies to neither
 *	      naming table for that user -- policies may depend on settings or
 *	      functions, so with RLS the cache lasts at most one top-level
 *	      statement (and one snapshot and command id of it);
 *	    . an MVCC snapshot with the same xmin, xmax and in-progress lists:
 *	      every xid below xmax is then equally visible (commit status never
 *	      changes), so both snapshots see the same committed rows;
 *	    . when the transaction that filled the cache had an xid (may have
 *	      written), the same local transaction and command id as well.
 *	      A writer's commit or abort moves xmax past every older snapshot,
 *	      so its changes are never missed.
 *	  When the key does not match but row-level security applies to
 *	  neither table and the caller has table-level SELECT on both, the
 *	  row versions of both tables visible to the new snapshot (relation,
 *	  TID, raw xmin: a few pages read from the heap) are compared with those
 *	  visible under the old key: the same versions are the same rows, so
 *	  the parts are kept and keyed anew.  A commit elsewhere (any write to
 *	  any table moves xmax) then costs a scan of the naming tables, not a
 *	  read of the parts; a change of a naming table reads them again.
 *	  So ecs_spawn names thousands of agents with one read per spirit, and
 *	  single calls (ecs_generate_name, ecs_breed) skip the read while the
 *	  naming tables do not change.
 *	- Memory: each call allocates only its result in the caller's context;
 *	  a key mismatch resets the cache's context.
 *
 * IDENTIFICATION
 *		src/naming.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "ecs_agents.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "naming.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/formatting.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#if PG_VERSION_NUM >= 150000
#include "common/pg_prng.h"
#endif

#define NAME_PREFIX		0
#define NAME_ROOT		1
#define NAME_SUFFIX		2
#define NAME_TITLE		3
#define NAME_NTYPES		4

#define NAME_CACHE_SLOTS 64

/* draws of the seed's stream, fixed forever (names are reproducible) */
#define DRAW_PREFIX		0
#define DRAW_ROOT		1
#define DRAW_HAS_SUFFIX	2
#define DRAW_SUFFIX		3
#define DRAW_TITLE		4
#define SUFFIX_CHANCE	0.25

/* one spirit's parts; cum[t][i] = sum of the weights of values[t][0..i] */
typedef struct NameSpirit
{
	char	   *spirit_id;		/* NULL: no spirit, shared parts only */
	char	   *display_name;
	bool		enabled;
	int			n[NAME_NTYPES];
	char	  **values[NAME_NTYPES];
	double	   *cum[NAME_NTYPES];
} NameSpirit;

/* one visible row version of a naming table */
typedef struct NameRowVersion
{
	Oid			rel;
	ItemPointerData tid;
	TransactionId xmin;			/* raw */
} NameRowVersion;

/* more rows than this in the naming tables: no version check, read again */
#define NAME_MAX_VERSIONS	100000

/* the backend's cache and its key (see the file header) */
typedef struct NameCache
{
	MemoryContext cxt;			/* holds the slots' contents */
	MemoryContext keycxt;		/* holds xip, subxip and versions */
	int			nversions;		/* -1: not known */
	NameRowVersion *versions;	/* visible row versions under the key */
	bool		valid;			/* key filled */
	Oid			userid;
	bool		rls;			/* RLS applied to a naming table */
	LocalTransactionId lxid;	/* InvalidLocalTransactionId: any */
	TimestampTz stmt_start;		/* with rls: the statement's start */
	CommandId	curcid;
	EcsSnapshotKey snapkey;		/* arrays in keycxt */
	int			nslots;
	NameSpirit	slots[NAME_CACHE_SLOTS];
} NameCache;

static NameCache *name_cache = NULL;

/*
 * The spirit row (k = 0) then its components and the shared ones (k = 1),
 * in component_id order.  $1 NULL reads the shared components only.
 */
static const char *const name_parts_sql =
"SELECT 0 AS k, 0 AS id, NULL::pg_catalog.text AS component_type, "
"       s.display_name AS value, NULL::pg_catalog.float8 AS weight, s.enabled "
"  FROM ecs.naming_spirits s WHERE s.spirit_id OPERATOR(pg_catalog.=) $1 "
"UNION ALL "
"SELECT 1, c.component_id, c.component_type, c.value, c.weight, NULL "
"  FROM ecs.naming_components c "
" WHERE c.spirit_id IS NULL OR c.spirit_id OPERATOR(pg_catalog.=) $1 "
" ORDER BY 1, 2";

static const char *const enabled_spirits_sql =
"SELECT pg_catalog.string_agg(s.spirit_id, ', ' ORDER BY s.spirit_id) "
"  FROM ecs.naming_spirits s WHERE s.enabled";

static int
component_type_index(const char *t)
{
	if (strcmp(t, "prefix") == 0)
		return NAME_PREFIX;
	if (strcmp(t, "root") == 0)
		return NAME_ROOT;
	if (strcmp(t, "suffix") == 0)
		return NAME_SUFFIX;
	if (strcmp(t, "title") == 0)
		return NAME_TITLE;
	return -1;					/* the CHECK constraint makes this unreachable */
}

/*
 * Raise P0002 (unknown spirit) or 55000 (disabled spirit), with the enabled
 * spirits in the hint; same words as ecs_check_spirit().  Connected to SPI.
 */
static void
report_bad_spirit(const char *spirit, bool exists)
{
	SPIPlanPtr	plan = ecs_plan(ECS_PLAN_ENABLED_SPIRITS, enabled_spirits_sql, 0, NULL);
	char	   *list = NULL;
	int			rc;

	rc = SPI_execute_plan(plan, NULL, NULL, true, 1);
	if (rc == SPI_OK_SELECT && SPI_processed == 1)
		list = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (list == NULL)
		list = "none";
	if (!exists)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("spirit \"%s\" does not exist", spirit),
				 errhint("Enabled spirits: %s.", list)));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("spirit \"%s\" is disabled", spirit),
			 errhint("Enable it with UPDATE ecs.naming_spirits SET enabled = true, or use one of: %s.",
					 list)));
}

/*
 * Read the spirit and its parts into slot (contents in cxt).  Returns false
 * when the spirit does not exist (spirit NULL always exists).  Connected to
 * SPI.
 */
static bool
load_spirit(NameSpirit *slot, MemoryContext cxt, const char *spirit)
{
	SPIPlanPtr	plan;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	char		nulls[1];
	int			rc;
	uint64		i;
	int			t;
	int			cap[NAME_NTYPES];
	bool		found = (spirit == NULL);
	MemoryContext old;

	plan = ecs_plan(ECS_PLAN_NAME_PARTS, name_parts_sql, 1, argtypes);
	args[0] = spirit ? CStringGetTextDatum(spirit) : (Datum) 0;
	nulls[0] = spirit ? ' ' : 'n';
	rc = SPI_execute_plan(plan, args, nulls, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the name components: %s",
			 SPI_result_code_string(rc));

	old = MemoryContextSwitchTo(cxt);
	memset(slot, 0, sizeof(NameSpirit));
	slot->spirit_id = spirit ? pstrdup(spirit) : NULL;
	for (t = 0; t < NAME_NTYPES; t++)
	{
		cap[t] = 8;
		slot->values[t] = palloc(sizeof(char *) * cap[t]);
		slot->cum[t] = palloc(sizeof(double) * cap[t]);
	}
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int32		k = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));
		char	   *value = TextDatumGetCString(SPI_getbinval(tup, desc, 4, &isnull));

		CHECK_FOR_INTERRUPTS();
		if (k == 0)
		{
			found = true;
			slot->display_name = value;
			slot->enabled = DatumGetBool(SPI_getbinval(tup, desc, 6, &isnull));
		}
		else
		{
			char	   *ctype = TextDatumGetCString(SPI_getbinval(tup, desc, 3, &isnull));
			double		w = DatumGetFloat8(SPI_getbinval(tup, desc, 5, &isnull));
			int			n;

			t = component_type_index(ctype);
			if (t < 0)
				continue;
			n = slot->n[t];
			if (n == cap[t])
			{
				if (cap[t] > (int) (MaxAllocSize / sizeof(double) / 2))
					elog(ERROR, "too many name components");
				cap[t] *= 2;
				slot->values[t] = repalloc(slot->values[t], sizeof(char *) * cap[t]);
				slot->cum[t] = repalloc(slot->cum[t], sizeof(double) * cap[t]);
			}
			slot->values[t][n] = value;
			slot->cum[t][n] = (n > 0 ? slot->cum[t][n - 1] : 0.0) + w;
			slot->n[t] = n + 1;
		}
	}
	MemoryContextSwitchTo(old);
	SPI_freetuptable(SPI_tuptable);
	return found;
}

/*
 * Weighted draw with u in [0, 1): the first part whose cumulative weight
 * exceeds u * total.  NULL when the spirit has no part of the type.
 */
static const char *
pick(const NameSpirit *s, int t, double u)
{
	int			n = s->n[t];
	double		target;
	int			lo,
				hi;

	if (n == 0)
		return NULL;
	target = u * s->cum[t][n - 1];
	/* binary search for the first cum > target */
	lo = 0;
	hi = n - 1;
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (s->cum[t][mid] > target)
			hi = mid;
		else
			lo = mid + 1;
	}
	return s->values[t][lo];
}

/* the naming tables: ecs.naming_spirits, ecs.naming_components */
#define NAME_NRELS 2
static const char *const name_rels[NAME_NRELS] = {"naming_spirits", "naming_components"};

/*
 * Whether row-level security applies to table relid for the current user
 * (true too when the table cannot be found: then no caching).
 */
static bool
rls_applies(Oid relid)
{
	return !OidIsValid(relid) ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED;
}

/* does the key of c match the current call?  see the file header */
static bool
cache_key_matches(NameCache *c, Snapshot snap, Oid userid, bool rls, bool own_xid)
{
	if (!c->valid || c->userid != userid || c->rls != rls ||
		!ecs_snapshot_key_matches(&c->snapkey, snap))
		return false;
	if (rls && c->stmt_start != GetCurrentStatementStartTimestamp())
		return false;
	if (c->lxid != InvalidLocalTransactionId)
		return c->lxid == ECS_MY_LXID && c->curcid == snap->curcid;
	/* filled by a transaction without writes: valid unless we have written */
	return !own_xid;
}

/*
 * The row versions of the naming tables (relids, from name_rels) that snap
 * sees, in physical order, read from the heap (a few pages), into *out in
 * cxt.  -1 when they cannot be read that way: a table missing, without
 * table-level SELECT for userid, not a heap table, or too large.  Only used
 * when row-level security applies to neither table (the caller checks).
 */
static int
naming_versions(const Oid *relids, Snapshot snap, Oid userid, MemoryContext cxt,
				NameRowVersion **out)
{
	int			n = 0,
				cap = 256,
				r;
	NameRowVersion *v = MemoryContextAlloc(cxt, sizeof(NameRowVersion) * cap);

	for (r = 0; r < NAME_NRELS; r++)
	{
		Oid			relid = relids[r];
		Relation	rel;
		TableScanDesc scan;
		HeapTuple	tup;

		if (!OidIsValid(relid) || pg_class_aclcheck(relid, userid, ACL_SELECT) != ACLCHECK_OK)
			return -1;
		rel = table_open(relid, AccessShareLock);
		if (rel->rd_rel->relkind != RELKIND_RELATION ||
			rel->rd_tableam != GetHeapamTableAmRoutine())
		{
			table_close(rel, NoLock);
			return -1;
		}
		scan = table_beginscan(rel, snap, 0, NULL);
		while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
		{
			CHECK_FOR_INTERRUPTS();
			if (n == NAME_MAX_VERSIONS)
			{
				table_endscan(scan);
				table_close(rel, NoLock);
				return -1;
			}
			if (n == cap)
			{
				cap *= 2;
				v = repalloc(v, sizeof(NameRowVersion) * cap);
			}
			v[n].rel = relid;
			v[n].tid = tup->t_self;
			v[n].xmin = HeapTupleHeaderGetRawXmin(tup->t_data);
			n++;
		}
		table_endscan(scan);
		table_close(rel, NoLock);
	}
	*out = v;
	return n;
}

static bool
versions_equal(const NameRowVersion *a, int na, const NameRowVersion *b, int nb)
{
	int			i;

	if (na < 0 || na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (a[i].rel != b[i].rel || !ItemPointerEquals((ItemPointer) &a[i].tid, (ItemPointer) &b[i].tid) ||
			a[i].xmin != b[i].xmin)
			return false;
	return true;
}

/* key c to the current call (see the file header); its slots stay */
static void
cache_set_key(NameCache *c, Snapshot snap, Oid userid, bool rls, bool own_xid)
{
	MemoryContextReset(c->keycxt);
	c->nversions = -1;
	c->versions = NULL;
	c->userid = userid;
	c->rls = rls;
	c->lxid = (own_xid || rls) ? ECS_MY_LXID : InvalidLocalTransactionId;
	c->stmt_start = GetCurrentStatementStartTimestamp();
	c->curcid = snap->curcid;
	ecs_snapshot_key_set(&c->snapkey, snap, c->keycxt);
	c->valid = true;
}

/*
 * The cache, valid for the current call: kept when its key matches; kept
 * and keyed anew when the naming tables' visible row versions are those it
 * was filled under (a commit elsewhere changed the snapshot, not these
 * tables: same row versions, same rows, same parts); else emptied and keyed
 * anew (or left unkeyed, so never matching, without an MVCC snapshot).
 */
static NameCache *
current_cache(void)
{
	NameCache  *c = name_cache;
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;
	Oid			userid = GetUserId();
	bool		own_xid = TransactionIdIsValid(GetTopTransactionIdIfAny());
	bool		rls = false;
	bool		mvcc;
	Oid			relids[NAME_NRELS];
	NameRowVersion *v = NULL;
	int			nv = -1;
	int			r;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(TopMemoryContext, sizeof(NameCache));
		c->cxt = AllocSetContextCreate(TopMemoryContext, "ecs name parts",
									   ALLOCSET_SMALL_SIZES);
		c->keycxt = AllocSetContextCreate(TopMemoryContext, "ecs name parts key",
										  ALLOCSET_SMALL_SIZES);
		c->nversions = -1;
		name_cache = c;
	}
	for (r = 0; r < NAME_NRELS; r++)
	{
		relids[r] = ecs_table_oid(name_rels[r]);
		rls = rls || rls_applies(relids[r]);
	}
	mvcc = snap != NULL && snap->snapshot_type == SNAPSHOT_MVCC;

	if (mvcc && cache_key_matches(c, snap, userid, rls, own_xid))
		return c;
	if (mvcc && !rls)
		nv = naming_versions(relids, snap, userid, CurrentMemoryContext, &v);
	if (nv >= 0 && c->valid && c->userid == userid && !c->rls &&
		versions_equal(c->versions, c->nversions, v, nv))
		elog(DEBUG2, "name parts: kept (%d row versions unchanged)", nv);
	else
	{
		MemoryContextReset(c->cxt);
		c->nslots = 0;
		c->valid = false;
	}
	if (!mvcc)
		return c;
	cache_set_key(c, snap, userid, rls, own_xid);
	if (nv >= 0)
	{
		c->versions = MemoryContextAlloc(c->keycxt, sizeof(NameRowVersion) * Max(nv, 1));
		if (nv > 0)
			memcpy(c->versions, v, sizeof(NameRowVersion) * nv);
		c->nversions = nv;
		pfree(v);
	}
	return c;
}

/* find the spirit in the cache, or read it; NULL when it does not exist */
static NameSpirit *
lookup_spirit(NameCache *c, const char *spirit, bool *connected)
{
	NameSpirit *slot;
	int			i;

	for (i = 0; i < c->nslots; i++)
	{
		const char *id = c->slots[i].spirit_id;

		if ((id == NULL && spirit == NULL) ||
			(id != NULL && spirit != NULL && strcmp(id, spirit) == 0))
			return &c->slots[i];
	}

	if (!*connected)
	{
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		*connected = true;
	}
	if (c->nslots == NAME_CACHE_SLOTS)
	{
		/* full: start over rather than track what each slot holds */
		MemoryContextReset(c->cxt);
		c->nslots = 0;
	}
	/* counted only once complete: an error leaves no half-read slot */
	slot = &c->slots[c->nslots];
	if (!load_spirit(slot, c->cxt, spirit))
		return NULL;
	c->nslots++;
	return slot;
}

char *
ecs_name_generate(const char *spirit, uint64 seed, bool require_enabled)
{
	NameCache  *c;
	MemoryContext callercxt = CurrentMemoryContext;
	NameSpirit *s;
	bool		connected = false;
	const char *prefix;
	const char *root;
	const char *suffix = NULL;
	const char *title;
	StringInfoData given;
	StringInfoData out;

	c = current_cache();

	s = lookup_spirit(c, spirit, &connected);
	if (s == NULL || (require_enabled && !s->enabled))
	{
		if (!connected && SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		report_bad_spirit(spirit, s != NULL);
	}
	if (connected)
	{
		if (SPI_finish() != SPI_OK_FINISH)
			elog(ERROR, "SPI_finish failed");
		MemoryContextSwitchTo(callercxt);
	}

	/* the given name: prefix + root, capitalised; the spirit when empty */
	prefix = pick(s, NAME_PREFIX, ecs_random_unit(seed, DRAW_PREFIX));
	root = pick(s, NAME_ROOT, ecs_random_unit(seed, DRAW_ROOT));
	initStringInfo(&given);
	if (prefix)
		appendStringInfoString(&given, prefix);
	if (root)
		appendStringInfoString(&given, root);
	if (given.len == 0 && s->display_name)
		appendStringInfoString(&given, s->display_name);
	if (given.len > 0)
	{
		unsigned char first = (unsigned char) given.data[0];

		if (!IS_HIGHBIT_SET(first))
			given.data[0] = pg_ascii_toupper(first);
		else
		{
			int			clen = pg_mblen(given.data);
			char	   *up = str_toupper(given.data, clen, DEFAULT_COLLATION_OID);

			initStringInfo(&out);
			appendStringInfoString(&out, up);
			appendStringInfoString(&out, given.data + clen);
			pfree(given.data);
			given = out;
		}
	}
	if (ecs_random_unit(seed, DRAW_HAS_SUFFIX) < SUFFIX_CHANCE)
		suffix = pick(s, NAME_SUFFIX, ecs_random_unit(seed, DRAW_SUFFIX));
	title = pick(s, NAME_TITLE, ecs_random_unit(seed, DRAW_TITLE));

	initStringInfo(&out);
	appendBinaryStringInfo(&out, given.data, given.len);
	if (suffix)
		appendStringInfo(&out, " %s", suffix);
	if (s->spirit_id != NULL)
	{
		appendStringInfoString(&out, " of the ");
		if (title)
			appendStringInfo(&out, "%s ", title);
		appendStringInfoString(&out, s->display_name);
	}
	pfree(given.data);
	return out.data;
}

uint64
ecs_name_random_seed(void)
{
#if PG_VERSION_NUM >= 150000
	return pg_prng_uint64(&pg_global_prng_state);
#else
	return ((uint64) random() << 42) ^ ((uint64) random() << 21) ^ (uint64) random();
#endif
}

PG_FUNCTION_INFO_V1(ecs_generate_name);

/*
 * ecs_generate_name(spirit text, seed bigint DEFAULT NULL) returns text
 *		A name for an agent of an enabled spirit; deterministic for a seed,
 *		random for a NULL seed; NULL for a NULL spirit.  P0002 for an unknown
 *		spirit, 55000 for a disabled one.  The spirit's parts are cached
 *		(see the file header).
 */
Datum
ecs_generate_name(PG_FUNCTION_ARGS)
{
	char	   *spirit;
	uint64		seed;
	char	   *name;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	spirit = text_to_cstring(PG_GETARG_TEXT_PP(0));
	seed = PG_ARGISNULL(1) ? ecs_name_random_seed() : (uint64) PG_GETARG_INT64(1);

	name = ecs_name_generate(spirit, seed, true);
	PG_RETURN_TEXT_P(cstring_to_text(name));
}
