/*-------------------------------------------------------------------------
 *
 * genome_index_vacuum.c
 *		ecs_genome index: VACUUM and the structural check.
 *
 * VACUUM frees the slots of dead heap tuples in place (never moving a live
 * entry: scans rely on stable slot numbers, genome_index_scan.c), trims
 * free slots off the end of each page, and lists pages with room in the
 * metapage for inserts to fill.
 *
 * IDENTIFICATION
 *		src/genome_index_vacuum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "commands/vacuum.h"
#include "ecs_agents.h"
#include "fmgr.h"
#include "genome_index.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"
#include "utils/hsearch.h"
#include "access/tableam.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

/*
 * ecs_gi_bulkdelete
 *		Free the slots whose heap tuples the callback reports dead.
 */
IndexBulkDeleteResult *
ecs_gi_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				  IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	BlockNumber blk;
	BlockNumber *room = palloc(sizeof(BlockNumber) * ECS_GI_FREE_MAX);
	int			nroom = 0;
	Buffer		metabuf;
	GenericXLogState *xlog;
	EcsGiMetaData *meta;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	for (blk = ECS_GI_METAPAGE_BLKNO + 1; blk < nblocks; blk++)
	{
		Buffer		buf;
		Page		page;
		EcsGiPageOpaque *o;
		uint8	   *states;
		ItemPointerData *tids;
		bool		changed = false;
		int			i;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		xlog = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(xlog, buf, 0);
		if (PageIsNew(page) || EcsGiOpaque(page)->page_id != ECS_GI_PAGE_ID)
		{
			GenericXLogAbort(xlog);
			UnlockReleaseBuffer(buf);
			continue;
		}
		o = EcsGiOpaque(page);
		states = EcsGiStates(page);
		tids = EcsGiTids(page);
		for (i = 0; i < o->nused; i++)
		{
			if (states[i] == ECS_GI_SLOT_FREE)
				continue;
			if (callback(&tids[i], callback_state))
			{
				if (ECS_GI_STATE(states[i]) == ECS_GI_SLOT_NOCODE)
					o->nnocode--;
				states[i] = ECS_GI_SLOT_FREE;
				o->nlive--;
				stats->tuples_removed += 1;
				changed = true;
			}
			else
				stats->num_index_tuples += 1;
		}
		while (o->nused > 0 && states[o->nused - 1] == ECS_GI_SLOT_FREE)
		{
			o->nused--;
			changed = true;
		}
		if (changed)
			GenericXLogFinish(xlog);
		else
			GenericXLogAbort(xlog);
		if (o->nlive < ECS_GI_SLOTS && nroom < ECS_GI_FREE_MAX)
			room[nroom++] = blk;
		UnlockReleaseBuffer(buf);
	}

	/* the pages with room, for inserts to fill first */
	metabuf = ReadBuffer(index, ECS_GI_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	xlog = GenericXLogStart(index);
	meta = EcsGiMeta(GenericXLogRegisterBuffer(xlog, metabuf, 0));
	memcpy(meta->free, room, sizeof(BlockNumber) * nroom);
	meta->nfree = nroom;
	meta->changes++;
	GenericXLogFinish(xlog);
	UnlockReleaseBuffer(metabuf);

	stats->num_pages = nblocks;
	return stats;
}

/*
 * ecs_gi_vacuumcleanup
 *		Statistics; counts the live entries when no bulk delete ran.
 */
IndexBulkDeleteResult *
ecs_gi_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	BlockNumber nblocks,
				blk;

	if (info->analyze_only)
		return stats;
	nblocks = RelationGetNumberOfBlocks(index);
	if (stats == NULL)
	{
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		for (blk = ECS_GI_METAPAGE_BLKNO + 1; blk < nblocks; blk++)
		{
			Buffer		buf;
			Page		page;

			vacuum_delay_point();
			buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, info->strategy);
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			if (!PageIsNew(page) && EcsGiOpaque(page)->page_id == ECS_GI_PAGE_ID)
				stats->num_index_tuples += EcsGiOpaque(page)->nlive;
			UnlockReleaseBuffer(buf);
		}
	}
	stats->num_pages = nblocks;
	return stats;
}

static void
check_fail(Relation index, BlockNumber blk, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("index \"%s\" is corrupted at block %u", RelationGetRelationName(index), blk),
			 errdetail("%s", what),
			 errhint("Please REINDEX it.")));
}

/* an index entry, by heap TID, for the heap cross-check */
typedef struct CheckEntry
{
	ItemPointerData tid;		/* hash key */
	uint8		state;
	uint8		codes[ECS_GI_CODES];
} CheckEntry;

typedef struct HeapCheckState
{
	Relation	index;
	HTAB	   *entries;
	int64		checked;
} HeapCheckState;

/*
 * Every row the snapshot sees must have an entry, with the codes its genome
 * has now (IndexBuildCallback of table_index_build_scan).
 */
static void
heap_check_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
					bool tupleIsAlive, void *arg)
{
	HeapCheckState *hs = (HeapCheckState *) arg;
	CheckEntry *e = hash_search(hs->entries, tid, HASH_FIND, NULL);
	uint8		codes[ECS_GI_CODES];
	int			state;

	if (e == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has no entry for heap tuple (%u,%u)",
						RelationGetRelationName(index),
						ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid)),
				 errhint("Please REINDEX it.")));
	state = ecs_gi_entry(hs->index, values, isnull, codes);
	if (e->state != state || memcmp(e->codes, codes, ECS_GI_CODES) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has wrong codes for heap tuple (%u,%u)",
						RelationGetRelationName(index),
						ItemPointerGetBlockNumber(tid), ItemPointerGetOffsetNumber(tid)),
				 errhint("Please REINDEX it.")));
	hs->checked++;
}

PG_FUNCTION_INFO_V1(ecs_genome_index_check);

/*
 * ecs_genome_index_check(index regclass, heapallindexed bool) bigint
 *		amcheck-style check of an ecs_genome index: metapage, every page's
 *		counters against its slot states, the free list; with
 *		heapallindexed, also that every row of the table visible to a
 *		snapshot taken first has an entry with the codes of its genome (as
 *		amcheck's bt_index_check does, through table_index_build_scan; the
 *		entries are held in a hash table, about 60 bytes each).  Returns
 *		the number of live entries; XX002 index_corrupted naming the block
 *		or heap tuple otherwise.  Takes AccessShareLock on the index and
 *		its table.  22023 when the relation is not an ecs_genome index.
 */
Datum
ecs_genome_index_check(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	Oid			heapoid = IndexGetRelation(indexoid, true);
	Relation	heap,
				index;
	Buffer		buf;
	EcsGiMetaData meta;
	BlockNumber nblocks,
				blk;
	int64		live = 0;
	uint32		i;
	int			natts;
	bool		heapallindexed = PG_GETARG_BOOL(1);
	Snapshot	snapshot = InvalidSnapshot;
	HTAB	   *entries = NULL;

	if (get_rel_name(indexoid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", indexoid)));
	if (!OidIsValid(heapoid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation \"%s\" is not an index", get_rel_name(indexoid))));
	heap = table_open(heapoid, AccessShareLock);
	index = index_open(indexoid, AccessShareLock);
	if (index->rd_rel->relam != get_index_am_oid("ecs_genome", false))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("index \"%s\" is not an ecs_genome index", RelationGetRelationName(index))));

	if (heapallindexed)
	{
		HASHCTL		ctl;

		/* first the snapshot: every row it sees has its entry by then */
		snapshot = RegisterSnapshot(GetTransactionSnapshot());
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(ItemPointerData);
		ctl.entrysize = sizeof(CheckEntry);
		ctl.hcxt = CurrentMemoryContext;
		entries = hash_create("ecs_genome check", 1024, &ctl,
							  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}

	natts = ecs_gi_check_shape(index);
	nblocks = RelationGetNumberOfBlocks(index);
	if (nblocks == 0)
		check_fail(index, 0, "The index has no metapage.");
	buf = ReadBuffer(index, ECS_GI_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	meta = *EcsGiMeta(BufferGetPage(buf));
	UnlockReleaseBuffer(buf);
	if (meta.magic != ECS_GI_MAGIC || meta.ncodes != ECS_GI_CODES)
		check_fail(index, 0, "The metapage has a wrong magic number or code size.");
	if (meta.nfree > ECS_GI_FREE_MAX)
		check_fail(index, 0, "The metapage's free list is longer than its array.");
	if (meta.last_blk != InvalidBlockNumber &&
		(meta.last_blk == ECS_GI_METAPAGE_BLKNO || meta.last_blk >= nblocks))
		check_fail(index, 0, "The metapage names a last page outside the index.");
	for (i = 0; i < meta.nfree; i++)
		if (meta.free[i] == ECS_GI_METAPAGE_BLKNO || meta.free[i] >= nblocks)
			check_fail(index, 0, "The metapage's free list names a page outside the index.");

	for (blk = ECS_GI_METAPAGE_BLKNO + 1; blk < nblocks; blk++)
	{
		Page		page;
		EcsGiPageOpaque o;
		int			nlive = 0,
					nnocode = 0;
		int			s;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(index, blk);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page))
		{
			UnlockReleaseBuffer(buf);
			continue;
		}
		o = *EcsGiOpaque(page);
		if (o.page_id != ECS_GI_PAGE_ID || o.nused > ECS_GI_SLOTS)
		{
			UnlockReleaseBuffer(buf);
			check_fail(index, blk, "The page has a wrong page id or slot count.");
		}
		for (s = 0; s < ECS_GI_SLOTS; s++)
		{
			uint8		st = EcsGiStates(page)[s];

			if (s >= o.nused ? st != ECS_GI_SLOT_FREE :
				(st != ECS_GI_SLOT_FREE &&
				 (ECS_GI_STATE(st) == ECS_GI_SLOT_FREE || ECS_GI_STATE(st) > ECS_GI_SLOT_CODED ||
				  ECS_GI_CLASS(st) >= (natts == 2 ? ECS_GI_NCLASSES : 1))))
			{
				UnlockReleaseBuffer(buf);
				check_fail(index, blk, "A slot has an invalid state.");
			}
			if (st != ECS_GI_SLOT_FREE)
			{
				nlive++;
				if (ECS_GI_STATE(st) == ECS_GI_SLOT_NOCODE)
					nnocode++;
				if (!ItemPointerIsValid(&EcsGiTids(page)[s]))
				{
					UnlockReleaseBuffer(buf);
					check_fail(index, blk, "A live slot has an invalid heap TID.");
				}
				if (entries)
				{
					CheckEntry *e = hash_search(entries, &EcsGiTids(page)[s], HASH_ENTER, NULL);

					e->state = st;
					memcpy(e->codes, EcsGiCodes(page) + (Size) s * ECS_GI_CODES, ECS_GI_CODES);
				}
			}
		}
		UnlockReleaseBuffer(buf);
		if (nlive != o.nlive || nnocode != o.nnocode)
			check_fail(index, blk, "The page's counters do not match its slots.");
		live += nlive;
	}
	if (heapallindexed)
	{
		HeapCheckState hs;
		TableScanDesc scan;
		IndexInfo  *info = BuildIndexInfo(index);

		hs.index = index;
		hs.entries = entries;
		hs.checked = 0;
		scan = table_beginscan_strat(heap, snapshot, 0, NULL, true, false);
		table_index_build_scan(heap, index, info, true, false,
							   heap_check_callback, &hs, scan);
		UnregisterSnapshot(snapshot);
		hash_destroy(entries);
	}
	index_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
	PG_RETURN_INT64(live);
}
