/*-------------------------------------------------------------------------
 *
 * genome_index_build.c
 *		ecs_genome index: build, empty build (unlogged tables) and insert.
 *
 * Build fills pages in local memory from the heap scan and writes each as a
 * full-page generic WAL record.  Insert puts the entry in a free slot of a
 * page VACUUM listed in the metapage, else of the last page, else of a new
 * page, holding the metapage lock (inserts into one index are serialised
 * for the few microseconds of a page update).  Lock order: metapage, then
 * one data page; a scan never holds two locks, VACUUM takes the metapage
 * only after releasing its data page.
 *
 * IDENTIFICATION
 *		src/genome_index_build.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "catalog/index.h"
#include "ecs_agents.h"
#include "genome_index.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/*
 * Add an entry to a data page: the first free slot below nused, else slot
 * nused.  false when the page is full.
 */
static bool
page_add(Page page, const uint8 *codes, int state, ItemPointer tid)
{
	EcsGiPageOpaque *o = EcsGiOpaque(page);
	uint8	   *states = EcsGiStates(page);
	int			slot = -1;
	int			i;

	if (o->nlive < o->nused)
	{
		for (i = 0; i < o->nused; i++)
			if (states[i] == ECS_GI_SLOT_FREE)
			{
				slot = i;
				break;
			}
	}
	if (slot < 0)
	{
		if (o->nused >= ECS_GI_SLOTS)
			return false;
		slot = o->nused++;
	}
	memcpy(EcsGiCodes(page) + (Size) slot * ECS_GI_CODES, codes, ECS_GI_CODES);
	EcsGiTids(page)[slot] = *tid;
	states[slot] = (uint8) state;
	o->nlive++;
	if (ECS_GI_STATE(state) == ECS_GI_SLOT_NOCODE)
		o->nnocode++;
	return true;
}

/* a new exclusively locked page at the end of the index */
static Buffer
new_buffer(Relation index)
{
	Buffer		buf;
	bool		needlock = !RELATION_IS_LOCAL(index);

	if (needlock)
		LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBuffer(index, P_NEW);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (needlock)
		UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/* write a locally built page as a new page, WAL-logged whole */
static BlockNumber
flush_page(Relation index, Page local)
{
	Buffer		buf = new_buffer(index);
	GenericXLogState *xlog = GenericXLogStart(index);
	Page		page = GenericXLogRegisterBuffer(xlog, buf, GENERIC_XLOG_FULL_IMAGE);
	BlockNumber blk = BufferGetBlockNumber(buf);

	memcpy(page, local, BLCKSZ);
	GenericXLogFinish(xlog);
	UnlockReleaseBuffer(buf);
	return blk;
}

typedef struct BuildState
{
	PGAlignedBlock page;		/* the page being filled */
	bool		dirty;
	BlockNumber last_blk;
	double		indtuples;
	MemoryContext tmpcxt;
} BuildState;

static void
build_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *arg)
{
	BuildState *bs = (BuildState *) arg;
	MemoryContext oldcxt = MemoryContextSwitchTo(bs->tmpcxt);
	uint8		codes[ECS_GI_CODES];
	int			state;

	state = ecs_gi_entry(index, values, isnull, codes);
	if (!page_add(bs->page.data, codes, state, tid))
	{
		bs->last_blk = flush_page(index, bs->page.data);
		CHECK_FOR_INTERRUPTS();
		ecs_gi_init_page(bs->page.data);
		if (!page_add(bs->page.data, codes, state, tid))
			elog(ERROR, "could not add an entry to an empty ecs_genome page");
	}
	bs->dirty = true;
	bs->indtuples += 1;
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(bs->tmpcxt);
}

/* write the metapage (new, block 0), last_blk set */
static void
write_metapage(Relation index, BlockNumber last_blk)
{
	Buffer		buf = ReadBuffer(index, ECS_GI_METAPAGE_BLKNO);
	GenericXLogState *xlog;
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	xlog = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(xlog, buf, GENERIC_XLOG_FULL_IMAGE);
	ecs_gi_fill_metapage(page);
	EcsGiMeta(page)->last_blk = last_blk;
	GenericXLogFinish(xlog);
	UnlockReleaseBuffer(buf);
}

/*
 * ecs_gi_build
 *		Build the index over the heap: metapage first (block 0), then the
 *		data pages in heap order, then the metapage's last page.
 */
IndexBuildResult *
ecs_gi_build(Relation heap, Relation index, IndexInfo *info)
{
	IndexBuildResult *result;
	BuildState	bs;
	double		reltuples;
	Buffer		meta;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	ecs_gi_check_shape(index);

	meta = new_buffer(index);
	Assert(BufferGetBlockNumber(meta) == ECS_GI_METAPAGE_BLKNO);
	UnlockReleaseBuffer(meta);
	write_metapage(index, InvalidBlockNumber);

	memset(&bs, 0, sizeof(bs));
	bs.last_blk = InvalidBlockNumber;
	bs.tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "ecs_genome build",
									  ALLOCSET_DEFAULT_SIZES);
	ecs_gi_init_page(bs.page.data);
	reltuples = table_index_build_scan(heap, index, info, true, true,
									   build_callback, (void *) &bs, NULL);
	if (bs.dirty && EcsGiOpaque(bs.page.data)->nused > 0)
		bs.last_blk = flush_page(index, bs.page.data);
	write_metapage(index, bs.last_blk);
	MemoryContextDelete(bs.tmpcxt);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/*
 * ecs_gi_buildempty
 *		The metapage of the init fork of an unlogged index.
 */
void
ecs_gi_buildempty(Relation index)
{
	Page		page = (Page) palloc(BLCKSZ);

	ecs_gi_check_shape(index);
	ecs_gi_fill_metapage(page);
	PageSetChecksumInplace(page, ECS_GI_METAPAGE_BLKNO);
	smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, ECS_GI_METAPAGE_BLKNO,
			  (char *) page, true);
	log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM,
				ECS_GI_METAPAGE_BLKNO, page, true);
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
}

/* try to add the entry to page blk inside xlog; the page stays locked on success */
static bool
try_page(Relation index, GenericXLogState *xlog, BlockNumber blk,
		 const uint8 *codes, int state, ItemPointer tid, Buffer *buf)
{
	Page		page;

	*buf = ReadBuffer(index, blk);
	LockBuffer(*buf, BUFFER_LOCK_EXCLUSIVE);
	page = GenericXLogRegisterBuffer(xlog, *buf, 0);
	if (PageIsNew(page))
		ecs_gi_init_page(page);
	return page_add(page, codes, state, tid);
}

/*
 * ecs_gi_insert
 *		Add the entry of one heap tuple, under the exclusive metapage
 *		lock: the listed free pages in turn (dropping full ones from the
 *		list), then the last page, then a new page; the metapage's change
 *		counter is bumped in the same WAL record.
 */
bool
ecs_gi_insert(Relation index, Datum *values, bool *isnull,
			  ItemPointer ht_ctid, Relation heapRel,
			  IndexUniqueCheck checkUnique, bool indexUnchanged,
			  IndexInfo *indexInfo)
{
	uint8		codes[ECS_GI_CODES];
	int			state;
	Buffer		metabuf,
				buf;
	EcsGiMetaData *meta;
	BlockNumber blk;
	GenericXLogState *xlog;
	Page		metapage;
	int			nfree;

	state = ecs_gi_entry(index, values, isnull, codes);

	/*
	 * Under the exclusive metapage lock throughout: the change counter is
	 * bumped in the same WAL record as the page, so a scan that reads the
	 * counter under a share lock knows every insert it counts is on its
	 * page (genome_index_scan.c, the backend cache).
	 */
	metabuf = ReadBuffer(index, ECS_GI_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	if (EcsGiMeta(BufferGetPage(metabuf))->magic != ECS_GI_MAGIC)
		elog(ERROR, "index \"%s\" is not an ecs_genome index", RelationGetRelationName(index));
	nfree = (int) EcsGiMeta(BufferGetPage(metabuf))->nfree;
	for (;;)
	{
		xlog = GenericXLogStart(index);
		metapage = GenericXLogRegisterBuffer(xlog, metabuf, 0);
		meta = EcsGiMeta(metapage);
		if (nfree > 0)
			blk = meta->free[nfree - 1];
		else if (nfree == 0)
			blk = meta->last_blk;
		else
			break;				/* the last page was full too */
		if (blk == InvalidBlockNumber)
			break;
		if (try_page(index, xlog, blk, codes, state, ht_ctid, &buf))
		{
			meta->nfree = Max(nfree, 0);
			meta->changes++;
			GenericXLogFinish(xlog);
			UnlockReleaseBuffer(buf);
			UnlockReleaseBuffer(metabuf);
			return false;
		}
		GenericXLogAbort(xlog);
		UnlockReleaseBuffer(buf);
		nfree--;
	}

	/* a new page, which becomes the last page; xlog has the metapage */
	buf = new_buffer(index);
	{
		Page		page = GenericXLogRegisterBuffer(xlog, buf, GENERIC_XLOG_FULL_IMAGE);

		ecs_gi_init_page(page);
		if (!page_add(page, codes, state, ht_ctid))
			elog(ERROR, "could not add an entry to an empty ecs_genome page");
	}
	meta->nfree = 0;
	meta->last_blk = BufferGetBlockNumber(buf);
	meta->changes++;
	GenericXLogFinish(xlog);
	UnlockReleaseBuffer(buf);
	UnlockReleaseBuffer(metabuf);
	return false;
}
