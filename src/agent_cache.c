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
 *	- the tuple at the TID, or the version its HOT chain leads to, is
 *	  visible to the active snapshot (heap_hot_search_buffer under a share
 *	  lock: the MVCC test, predicate lock and serializable conflict check an
 *	  index scan makes), and
 *	- its agent_id equals the id asked for, byte for byte.
 * agent_id is unique (the primary key, not deferrable), so under an MVCC
 * snapshot at most one visible row has a given id: a hit is exactly the
 * row the index scan would have returned, with its current links.  Any
 * UPDATE, DELETE, VACUUM, TRUNCATE or rewrite only turns hints into misses
 * (a dead, invisible, reused or out-of-range TID fails one of the tests);
 * misses go to the SPI query, which also returns the rows' ctid to refresh
 * the hints (from the second time an id is asked for: see
 * ecs_hints_fetch_level).  Nothing here is trusted without the heap saying
 * so.  The shared buffer that last held a hinted block is remembered too,
 * and used only when ReadRecentBuffer confirms it still holds that block.
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
 * Memory: an open-addressing table of 16-byte slots (hash of the id, TID,
 * buffer) in a context under TopMemoryContext, at most three quarters full,
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
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "miscadmin.h"
#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
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
	Buffer		buffer;			/* shared buffer that last held its block, or
								 * InvalidBuffer: a guess, checked on use */
} HintSlot;

/* ids of a level looked up together, so that their memory accesses overlap */
#define HINT_GROUP	32

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
	AttrNumber	attnum[ECS_HINT_COLUMNS];
	int			ncols;			/* 3 (links) or 7 (rows) */
	uint32		limit;			/* empty the table past this many slots used */
	Datum	   *values;			/* [natts] a deformed row */
	bool	   *nulls;
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
	Oid			relid;
	Relation	rel;
	EcsHintScan *hs;
	BlockNumber nblocks;
	double		reltuples;
	int			i;

	if (!ecs_agent_row_cache || !ActiveSnapshotSet() ||
		!IsMVCCSnapshot(GetActiveSnapshot()))
		return NULL;
	relid = ecs_table_oid("agents");
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
	}
	hs->rel = rel;
	hs->snapshot = GetActiveSnapshot();
	hs->nblocks = nblocks;
	hs->values = palloc(sizeof(Datum) * RelationGetDescr(rel)->natts);
	hs->nulls = palloc(sizeof(bool) * RelationGetDescr(rel)->natts);
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
	s->buffer = InvalidBuffer;
	hints.count++;
	return s;
}

/* one remembered address being read */
typedef struct HintProbe
{
	int			i;				/* position in the level */
	HintSlot   *slot;			/* its slot (no insert until the group ends) */
	ItemPointerData tid;
	Buffer		recent;			/* the slot's buffer guess */
	Buffer		buf;			/* pinned, or InvalidBuffer */
	HeapTupleData tup;
} HintProbe;

/* pin the block of p->tid, from the remembered buffer when it still holds it */
static Buffer
hint_pin(EcsHintScan *hs, HintProbe *p)
{
	BlockNumber blk = ItemPointerGetBlockNumber(&p->tid);

#if PG_VERSION_NUM >= 160000
	if (BufferIsValid(p->recent) &&
		ReadRecentBuffer(hs->rel->rd_locator, MAIN_FORKNUM, blk, p->recent))
		return p->recent;
#elif PG_VERSION_NUM >= 140000
	if (BufferIsValid(p->recent) &&
		ReadRecentBuffer(hs->rel->rd_node, MAIN_FORKNUM, blk, p->recent))
		return p->recent;
#endif
	return ReadBuffer(hs->rel, blk);
}

/*
 * ecs_hints_fetch_level
 *		The rows of a level's ids from their remembered addresses.  ids[i]
 *		is a text datum with a 4-byte header (as EcsIdTable stores them).
 *		For each id whose remembered tuple, or the version a HOT chain from
 *		it leads to, is visible to the snapshot and has that agent_id, fn
 *		gets its columns (as the walk's SPI query would return them:
 *		values[0..ncols-1], text as text) and res[i] = ECS_HINT_HIT.
 *		Else the caller asks SPI: res[i] = ECS_HINT_NEW for an id the cache
 *		had not met (it is noted, without an address), ECS_HINT_SEEN for
 *		one it had (worth reading with its ctid).
 *
 * The heap is read as an index scan reads it (heap_hot_search_buffer under
 * a share lock: visibility, predicate lock, serializable conflict check).
 * Ids go in groups of HINT_GROUP, in three passes, so that the cache misses
 * of different ids overlap: prefetch the remembered buffer's descriptor and
 * line pointer; pin each block (ReadRecentBuffer when the remembered buffer
 * still holds it, skipping the buffer table) and find the visible version;
 * then compare ids and hand rows over, releasing the pins.
 *
 * The first time an id is asked for, learning its address would turn the
 * index-only lookup into an index scan with a heap fetch (+40-70% for a
 * walk whose heap pages are not in shared buffers), for a row that may
 * never be asked for again: addresses are read from the second time on.
 */
void
ecs_hints_fetch_level(EcsHintScan *hs, char *const *ids, int n, EcsRowFn fn, void *arg,
					  EcsHintResult *res)
{
	TupleDesc	desc = RelationGetDescr(hs->rel);
	HintProbe	probe[HINT_GROUP];
	uint32		hash[HINT_GROUP];
	int			base;

	for (base = 0; base < n; base += HINT_GROUP)
	{
		int			m = Min(HINT_GROUP, n - base);
		int			np = 0;
		int			j;

		/*
		 * 1. look the ids up (no insert before step 4: an insert may move
		 * the table, and the probes keep their slots)
		 */
		for (j = 0; j < m; j++)
		{
			const char *key = ids[base + j];
			HintSlot   *s;
			HintProbe  *p;

			hash[j] = hint_hash(VARDATA(key), VARSIZE(key) - VARHDRSZ);
			s = hints_find(hash[j]);
			if (s == NULL)
			{
				res[base + j] = ECS_HINT_NEW;
				continue;
			}
			res[base + j] = ECS_HINT_SEEN;
			if (!ItemPointerIsValid(&s->tid) ||
				ItemPointerGetBlockNumber(&s->tid) >= hs->nblocks)
				continue;
			p = &probe[np++];
			p->i = base + j;
			p->slot = s;
			p->tid = s->tid;
			p->recent = InvalidBuffer;
			p->buf = InvalidBuffer;
			if (s->buffer > 0 && s->buffer <= NBuffers)
			{
				p->recent = s->buffer;
				__builtin_prefetch(GetBufferDescriptor(s->buffer - 1));
				__builtin_prefetch((char *) BufferGetBlock(s->buffer) +
								   offsetof(PageHeaderData, pd_linp) +
								   (ItemPointerGetOffsetNumber(&s->tid) - 1) * sizeof(ItemIdData));
			}
		}

		/* 2. pin each block and find the version the snapshot sees */
		for (j = 0; j < np; j++)
		{
			HintProbe  *p = &probe[j];
			ItemPointerData tid = p->tid;
			Buffer		buf = hint_pin(hs, p);
			bool		found;

			LockBuffer(buf, BUFFER_LOCK_SHARE);
			found = heap_hot_search_buffer(&tid, hs->rel, buf, hs->snapshot, &p->tup, NULL, true);
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
			if (!found)
			{
				ReleaseBuffer(buf);
				continue;
			}
			p->buf = buf;
			__builtin_prefetch(p->tup.t_data);
		}

		/*
		 * 3. the rows that have the ids asked for, to fn while pinned (a pin
		 * keeps the tuple in place); release
		 */
		for (j = 0; j < np; j++)
		{
			HintProbe  *p = &probe[j];
			const char *key = ids[p->i];
			Datum		values[ECS_HINT_COLUMNS];
			bool		nulls[ECS_HINT_COLUMNS];
			Buffer		buf = p->buf;
			int			c;

			if (!BufferIsValid(buf))
				continue;
			heap_deform_tuple(&p->tup, desc, hs->values, hs->nulls);
			for (c = 0; c < hs->ncols; c++)
			{
				values[c] = hs->values[hs->attnum[c] - 1];
				nulls[c] = hs->nulls[hs->attnum[c] - 1];
			}
			if (!nulls[0])
			{
				text	   *t = DatumGetTextPP(values[0]);

				if (VARSIZE_ANY_EXHDR(t) == VARSIZE(key) - VARHDRSZ &&
					memcmp(VARDATA_ANY(t), VARDATA(key), VARSIZE(key) - VARHDRSZ) == 0)
				{
					values[0] = PointerGetDatum(t);
					/* (on an error the resource owner releases the pins) */
					fn(values, nulls, arg);
					p->buf = InvalidBuffer;
					ReleaseBuffer(buf);
					res[p->i] = ECS_HINT_HIT;
					/* the buffer that holds the block now (the TID stays the root) */
					p->slot->buffer = buf;
					continue;
				}
			}
			p->buf = InvalidBuffer;
			ReleaseBuffer(buf);
		}

		/* 4. note the ids met for the first time; count */
		for (j = 0; j < m; j++)
		{
			if (res[base + j] == ECS_HINT_NEW && hints_find(hash[j]) == NULL)
				hints_insert(hs, hash[j]);
			if (res[base + j] == ECS_HINT_HIT)
				hs->hits++;
			else
				hs->misses++;
		}
	}
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
	if (!ItemPointerIsValid(&s->tid) ||
		ItemPointerGetBlockNumber(&s->tid) != ItemPointerGetBlockNumber(tid))
		s->buffer = InvalidBuffer;
	s->tid = *tid;
}

/*
 * ecs_hints_end
 *		Release the walk's slot; the relation stays locked (as SPI leaves it).
 */
void
ecs_hints_end(EcsHintScan *hs)
{
	table_close(hs->rel, NoLock);
	pfree(hs->values);
	pfree(hs->nulls);
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
