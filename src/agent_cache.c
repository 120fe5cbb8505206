/*-------------------------------------------------------------------------
 *
 * agent_cache.c
 *		Heap addresses of agent rows remembered per backend, so that ancestor
 *		walks fetch a row by its address instead of descending the id index.
 *
 * An ancestor walk (lineage.c) asks, level by level, for the rows of a set
 * of agent ids.  Through SPI each id costs one descent of the unique id
 * index (~4-8 us at a million agents); the heap tuple it ends on is one
 * buffer away.  This module remembers, for ids the walks have met, the
 * heap address (TID) of the row version they read, and hands the walk the
 * row straight from the heap when that version is still the one the
 * caller's snapshot sees.
 *
 * The cache holds hints, never answers.  A hit requires, on every use:
 *	- the tuple at the TID is visible to the active snapshot (heap_fetch:
 *	  the same MVCC test, predicate lock and serializable conflict check a
 *	  TID scan makes), and
 *	- its agent_id equals the id asked for, byte for byte.
 * agent_id is unique (the primary key, not deferrable), so under an MVCC
 * snapshot at most one visible row has a given id: a hit is exactly the
 * row the index scan would have returned, with its current links.  Any
 * UPDATE, DELETE, VACUUM, TRUNCATE or rewrite only turns hints into misses
 * (a dead, invisible, reused or out-of-range TID fails one of the tests);
 * misses go to the SPI query, which also returns the rows' ctid to refresh
 * the hints (from the second time an id is asked for: see
 * ecs_hints_fetch).  Nothing here is trusted without the heap saying so.
 *
 * The cache is bypassed (every id goes through SPI, as without it) when
 *	- ecs_agents.agent_row_cache is off;
 *	- the caller lacks table-level SELECT on ecs.agents (SPI then raises
 *	  42501 as usual), or row-level security applies to the caller (the
 *	  executor must apply the policies);
 *	- ecs.agents is not a plain heap table with at least one block (for
 *	  example a Citus coordinator's empty shell: its rows are elsewhere);
 *	- there is no active MVCC snapshot.
 *
 * Memory: an open-addressing table of 12-byte slots (hash of the id, TID)
 * in a context under TopMemoryContext, at most three quarters full,
 * doubling as it fills; it is emptied when it would hold more than twice
 * the table's rows (plus 64k), and when ecs.agents gets a new relfilenode.
 * Ids are not stored: two ids with the same 32-bit hash share a slot, and
 * the heap test tells them apart (a collision costs a miss, never a wrong
 * row).
 *
 * IDENTIFICATION
 *		src/agent_cache.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/bufmgr.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "ecs_agents.h"

typedef struct HintSlot
{
	uint32		hash;			/* hash_bytes of the id; 0 = empty */
	ItemPointerData tid;		/* row version last read for that id;
								 * invalid: id met, address not read */
} HintSlot;

/* the backend's table of hints */
static struct
{
	MemoryContext cxt;
	Oid			relid;			/* ecs.agents when filled */
	Oid			relfilenode;
	uint32		mask;			/* nslots - 1 */
	uint32		count;			/* used slots */
	HintSlot   *slots;
} hints;

/* columns of ecs.agents a walk reads, in the walks' column order */
static const char *const walk_columns[ECS_HINT_COLUMNS] = {
	"agent_id", "parent1_id", "parent2_id", "generation", "name", "sex", "active"
};
static const Oid walk_types[ECS_HINT_COLUMNS] = {
	TEXTOID, TEXTOID, TEXTOID, INT4OID, TEXTOID, TEXTOID, BOOLOID
};

struct EcsHintScan
{
	Relation	rel;
	Snapshot	snapshot;
	BlockNumber nblocks;
	TupleTableSlot *slot;
	AttrNumber	attnum[ECS_HINT_COLUMNS];
	int			ncols;			/* 3 (links) or 7 (rows) */
	AttrNumber	maxatt;			/* largest of attnum[] */
	uint32		limit;			/* empty the table past this many slots used */
	uint64		hits;
	uint64		misses;
};

static inline uint32
hint_hash(const char *id, int len)
{
	uint32		h = hash_bytes((const unsigned char *) id, len);

	return h != 0 ? h : 1;
}

static void
hints_reset(Oid relid, Oid relfilenode)
{
	if (hints.cxt == NULL)
		hints.cxt = AllocSetContextCreate(TopMemoryContext, "ecs agent row cache",
										  ALLOCSET_DEFAULT_SIZES);
	MemoryContextReset(hints.cxt);
	hints.mask = 1023;
	hints.count = 0;
	hints.slots = MemoryContextAllocExtended(hints.cxt, sizeof(HintSlot) * (hints.mask + 1),
											 MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	hints.relid = relid;
	hints.relfilenode = relfilenode;
}

/* double the table (the caller checked the size bound) */
static void
hints_grow(void)
{
	uint32		newmask = hints.mask * 2 + 1;
	HintSlot   *ns = MemoryContextAllocExtended(hints.cxt, sizeof(HintSlot) * ((Size) newmask + 1),
											   MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	uint32		i;

	for (i = 0; i <= hints.mask; i++)
	{
		uint32		pos;

		if (hints.slots[i].hash == 0)
			continue;
		pos = hints.slots[i].hash & newmask;
		while (ns[pos].hash != 0)
			pos = (pos + 1) & newmask;
		ns[pos] = hints.slots[i];
	}
	pfree(hints.slots);
	hints.slots = ns;
	hints.mask = newmask;
}

/* the slot of hash h, or NULL */
static inline HintSlot *
hints_find(uint32 h)
{
	uint32		pos = h & hints.mask;

	while (hints.slots[pos].hash != 0)
	{
		if (hints.slots[pos].hash == h)
			return &hints.slots[pos];
		pos = (pos + 1) & hints.mask;
	}
	return NULL;
}

/* a base type's column: the domain ecs.agent_id counts as text */
static bool
column_is(Relation rel, AttrNumber attnum, Oid type)
{
	Form_pg_attribute att;

	if (attnum <= 0 || attnum > RelationGetDescr(rel)->natts)
		return false;
	att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	return !att->attisdropped && getBaseType(att->atttypid) == type;
}

/*
 * ecs_hints_begin
 *		Start using the cache for one walk: wide asks for the walks' seven
 *		columns, else the three link columns.  NULL when the cache must not
 *		be used (see the file header); then the walk reads through SPI only.
 */
EcsHintScan *
ecs_hints_begin(bool wide)
{
	Oid			nsp,
				relid;
	Relation	rel;
	EcsHintScan *hs;
	BlockNumber nblocks;
	double		reltuples;
	int			i;

	if (!ecs_agent_row_cache || !ActiveSnapshotSet() ||
		!IsMVCCSnapshot(GetActiveSnapshot()))
		return NULL;
	nsp = get_namespace_oid("ecs", true);
	relid = OidIsValid(nsp) ? get_relname_relid("agents", nsp) : InvalidOid;
	if (!OidIsValid(relid))
		return NULL;
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		return NULL;

	/* the lock SPI would take; kept to the end of the transaction */
	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relkind != RELKIND_RELATION ||
		rel->rd_tableam != GetHeapamTableAmRoutine() ||
		(nblocks = RelationGetNumberOfBlocks(rel)) == 0)
	{
		table_close(rel, NoLock);
		return NULL;
	}

	hs = palloc0(sizeof(EcsHintScan));
	hs->ncols = wide ? ECS_HINT_COLUMNS : 3;
	for (i = 0; i < hs->ncols; i++)
	{
		hs->attnum[i] = get_attnum(relid, walk_columns[i]);
		if (!column_is(rel, hs->attnum[i], walk_types[i]))
		{
			/* a column changed type or is gone: leave it to the executor */
			table_close(rel, NoLock);
			pfree(hs);
			return NULL;
		}
		hs->maxatt = Max(hs->maxatt, hs->attnum[i]);
	}
	hs->rel = rel;
	hs->snapshot = GetActiveSnapshot();
	hs->nblocks = nblocks;
	hs->slot = table_slot_create(rel, NULL);
	reltuples = rel->rd_rel->reltuples > 0 ? rel->rd_rel->reltuples : (double) nblocks * 64;
	hs->limit = (uint32) Min(2.0 * reltuples + 65536.0, (double) (1U << 30));

	if (hints.slots == NULL || hints.relid != relid ||
		hints.relfilenode != rel->rd_rel->relfilenode)
		hints_reset(relid, rel->rd_rel->relfilenode);
	return hs;
}

/* a new slot for hash h (not in the table), address unknown */
static HintSlot *
hints_insert(EcsHintScan *hs, uint32 h)
{
	uint32		pos;
	HintSlot   *s;

	if (hints.count >= hs->limit)
		hints_reset(hints.relid, hints.relfilenode);
	if ((hints.count + 1) * 4 > (hints.mask + 1) * 3)
		hints_grow();
	pos = h & hints.mask;
	while (hints.slots[pos].hash != 0)
		pos = (pos + 1) & hints.mask;
	s = &hints.slots[pos];
	s->hash = h;
	ItemPointerSetInvalid(&s->tid);
	hints.count++;
	return s;
}

/*
 * ecs_hints_fetch
 *		The row of agent id (len bytes) from its remembered address: when
 *		the tuple there is visible to the snapshot and has that agent_id,
 *		call fn with its columns (as the walk's SPI query would return them:
 *		values[0..ncols-1], text as text) and return ECS_HINT_HIT.
 *		Else the caller asks SPI: ECS_HINT_NEW for an id the cache had not
 *		met (it is noted, without an address), ECS_HINT_SEEN for one it had
 *		(worth reading with its ctid).
 *
 * The first time an id is asked for, learning its address would turn the
 * index-only lookup into an index scan with a heap fetch (+40-70% for a
 * walk whose heap pages are not in shared buffers), for a row that may
 * never be asked for again: addresses are read from the second time on.
 */
EcsHintResult
ecs_hints_fetch(EcsHintScan *hs, const char *id, int len, EcsRowFn fn, void *arg)
{
	uint32		h = hint_hash(id, len);
	HintSlot   *s = hints_find(h);
	Datum		values[ECS_HINT_COLUMNS];
	bool		nulls[ECS_HINT_COLUMNS];
	bool		hit = false;
	int			i;

	if (s == NULL)
	{
		hints_insert(hs, h);
		hs->misses++;
		return ECS_HINT_NEW;
	}
	if (!ItemPointerIsValid(&s->tid) || ItemPointerGetBlockNumber(&s->tid) >= hs->nblocks)
	{
		hs->misses++;
		return ECS_HINT_SEEN;
	}
	if (table_tuple_fetch_row_version(hs->rel, &s->tid, hs->snapshot, hs->slot))
	{
		slot_getsomeattrs(hs->slot, hs->maxatt);
		for (i = 0; i < hs->ncols; i++)
		{
			values[i] = hs->slot->tts_values[hs->attnum[i] - 1];
			nulls[i] = hs->slot->tts_isnull[hs->attnum[i] - 1];
		}
		if (!nulls[0])
		{
			text	   *key = DatumGetTextPP(values[0]);

			hit = VARSIZE_ANY_EXHDR(key) == len &&
				memcmp(VARDATA_ANY(key), id, len) == 0;
			values[0] = PointerGetDatum(key);
		}
		/* the row is pinned in the slot while fn copies what it keeps */
		if (hit)
			fn(values, nulls, arg);
		ExecClearTuple(hs->slot);
	}
	if (hit)
	{
		hs->hits++;
		return ECS_HINT_HIT;
	}
	hs->misses++;
	return ECS_HINT_SEEN;
}

/*
 * ecs_hints_remember
 *		Remember tid as the address of agent id's row (read by SPI).
 */
void
ecs_hints_remember(EcsHintScan *hs, const char *id, int len, ItemPointer tid)
{
	uint32		h = hint_hash(id, len);
	HintSlot   *s = hints_find(h);

	if (s == NULL)
		s = hints_insert(hs, h);
	s->tid = *tid;
}

/*
 * ecs_hints_end
 *		Release the walk's slot; the relation stays locked (as SPI leaves it).
 */
void
ecs_hints_end(EcsHintScan *hs)
{
	ExecDropSingleTupleTableSlot(hs->slot);
	table_close(hs->rel, NoLock);
	pfree(hs);
}

/*
 * ecs_hints_stats
 *		Hits and misses of one walk's scan so far (for DEBUG messages).
 */
void
ecs_hints_stats(const EcsHintScan *hs, uint64 *hits, uint64 *misses)
{
	*hits = hs->hits;
	*misses = hs->misses;
}
