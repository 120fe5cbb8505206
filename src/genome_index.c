/*-------------------------------------------------------------------------
 *
 * genome_index.c
 *		The ecs_genome index access method: handler, pages, cost estimate.
 *
 * An ecs_genome index on a real[] column answers one kind of scan: ORDER
 * BY column <~> query, in ascending distance.  It stores a code per row
 * (genome_index.h) and, per scan, streams every code through the bound
 * kernel, keeping the entries of smallest bound; it returns them in
 * ascending bound with xs_recheckorderby set, so the executor fetches each
 * heap tuple, computes the exact distance with the operator and reorders
 * (IndexNextWithReorder): results are exact and visibility is the heap's.
 * Pages are WAL-logged with generic WAL (crash-safe, replicated), like
 * contrib/bloom.  Build: build.c; scan: scan.c; VACUUM: vacuum.c.
 *
 * IDENTIFICATION
 *		src/genome_index.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "access/reloptions.h"
#include "catalog/pg_type.h"
#include "commands/vacuum.h"
#include "fmgr.h"
#include "ecs_agents.h"
#include "genome_index.h"
#include "optimizer/optimizer.h"
#include "storage/bufmgr.h"
#include "utils/float.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

/*
 * ecs_gi_text_class
 *		The class (genome_index.h) of a value of the second key column.
 */
int
ecs_gi_text_class(Datum value, bool isnull)
{
	text	   *t;
	int			len;
	int			cls = ECS_GI_CLASS_OTHER;

	if (isnull)
		return cls;
	t = DatumGetTextPP(value);
	len = VARSIZE_ANY_EXHDR(t);
	if (len == 6 && memcmp(VARDATA_ANY(t), "female", 6) == 0)
		cls = ECS_GI_CLASS_FEMALE;
	else if (len == 4 && memcmp(VARDATA_ANY(t), "male", 4) == 0)
		cls = ECS_GI_CLASS_MALE;
	if ((Pointer) t != DatumGetPointer(value))
		pfree(t);
	return cls;
}

PG_FUNCTION_INFO_V1(ecs_sex_compatible);

/*
 * ecs_sex_compatible(a text, b text) boolean, the operator a <!> b
 *		true when either is NULL or they differ (byte for byte); false when
 *		both are the same value.  The mate filter on sex, in the form an
 *		ecs_genome index on (genome, sex) takes as a scan key.  Not strict.
 */
Datum
ecs_sex_compatible(PG_FUNCTION_ARGS)
{
	text	   *a,
			   *b;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_BOOL(true);
	a = PG_GETARG_TEXT_PP(0);
	b = PG_GETARG_TEXT_PP(1);
	PG_RETURN_BOOL(VARSIZE_ANY_EXHDR(a) != VARSIZE_ANY_EXHDR(b) ||
				   memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) != 0);
}

/*
 * ecs_gi_check_shape
 *		0A000 unless the index has a real[] key column and at most one text
 *		(or varchar: the same datum) column after it (the operator classes
 *		allow other combinations).
 *		Returns its number of key columns.
 */
int
ecs_gi_check_shape(Relation index)
{
	TupleDesc	desc = RelationGetDescr(index);
	int			natts = IndexRelationGetNumberOfKeyAttributes(index);

	if (natts > 2 || TupleDescAttr(desc, 0)->atttypid != FLOAT4ARRAYOID ||
		(natts == 2 && TupleDescAttr(desc, 1)->atttypid != TEXTOID &&
		 TupleDescAttr(desc, 1)->atttypid != VARCHAROID))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("index \"%s\" does not have the shape of an ecs_genome index",
						RelationGetRelationName(index)),
				 errdetail("An ecs_genome index has a real[] key column and at most one text or varchar column after it, such as (genome) or (genome, sex).")));
	return natts;
}

/*
 * ecs_gi_entry
 *		The entry of an indexed row: its codes (genome_code.c) into codes,
 *		and its state byte (state and class) as the result.  The index's
 *		shape was checked when it was built (ambuild, ambuildempty), and an
 *		index's columns never change after that.
 */
int
ecs_gi_entry(Relation index, Datum *values, bool *isnull, uint8 *codes)
{
	int			state;

	state = ecs_genome_encode(values[0], isnull[0], codes);
	if (IndexRelationGetNumberOfKeyAttributes(index) == 2)
		state |= ecs_gi_text_class(values[1], isnull[1]) << 2;
	return state;
}

/* an empty data page */
void
ecs_gi_init_page(Page page)
{
	EcsGiPageOpaque *o;

	PageInit(page, BLCKSZ, sizeof(EcsGiPageOpaque));
	o = EcsGiOpaque(page);
	o->nused = 0;
	o->nlive = 0;
	o->nnocode = 0;
	o->page_id = ECS_GI_PAGE_ID;
	/* the slot arrays are fixed: the whole page is data for generic WAL */
	((PageHeader) page)->pd_lower = ((PageHeader) page)->pd_upper;
}

/* XX002 unless page is a data page of an ecs_genome index */
void
ecs_gi_check_page(Relation index, Page page, BlockNumber blk)
{
	EcsGiPageOpaque *o = EcsGiOpaque(page);

	if (o->page_id != ECS_GI_PAGE_ID || o->nused > ECS_GI_SLOTS)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" contains a corrupted page at block %u",
						RelationGetRelationName(index), blk),
				 errhint("Please REINDEX it.")));
}

/*
 * ecs_gi_read_data_page
 *		Data page blk pinned and share-locked, checked (XX002 for a page
 *		that is not ours); InvalidBuffer, nothing held, for a new page.
 */
Buffer
ecs_gi_read_data_page(Relation index, BlockNumber blk)
{
	Buffer		buf = ReadBuffer(index, blk);
	Page		page;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	if (PageIsNew(page))
	{
		UnlockReleaseBuffer(buf);
		return InvalidBuffer;
	}
	ecs_gi_check_page(index, page, blk);
	return buf;
}

/* the metapage of an empty index */
void
ecs_gi_fill_metapage(Page page)
{
	EcsGiMetaData *m;

	PageInit(page, BLCKSZ, sizeof(EcsGiPageOpaque));
	EcsGiOpaque(page)->page_id = ECS_GI_PAGE_ID;
	m = EcsGiMeta(page);
	memset(m, 0, sizeof(EcsGiMetaData));
	m->magic = ECS_GI_MAGIC;
	m->version = 1;
	m->ncodes = ECS_GI_CODES;
	m->last_blk = InvalidBlockNumber;
	m->nfree = 0;
	((PageHeader) page)->pd_lower = ((char *) m + sizeof(EcsGiMetaData)) - (char *) page;
}

/*
 * Cost: a scan reads every index page and bounds every entry before it
 * returns its first tuple (startup), then fetches heap tuples in bound
 * order, close to the final order.  Without an ORDER BY the index is
 * useless: infinite cost, as pgvector does.
 */
static void
ecs_gi_costestimate(PlannerInfo *root, IndexPath *path, double loop_count,
					Cost *startup, Cost *total, Selectivity *selectivity,
					double *correlation, double *pages)
{
	GenericCosts costs;
	double		spc_seq_page_cost;
	double		tuples = Max(path->indexinfo->tuples, 1.0);

	if (path->indexorderbys == NIL)
	{
		*startup = get_float8_infinity();
		*total = get_float8_infinity();
		*selectivity = 0;
		*correlation = 0;
		*pages = 0;
		return;
	}
	MemSet(&costs, 0, sizeof(costs));
	genericcostestimate(root, path, loop_count, &costs);
	get_tablespace_page_costs(path->indexinfo->reltablespace, NULL, &spc_seq_page_cost);

	/* every page sequentially, every entry through the kernel (~1/8 op) */
	*startup = path->indexinfo->pages * spc_seq_page_cost +
		tuples * cpu_operator_cost * 0.125;
	*total = *startup + costs.indexTotalCost;
	*selectivity = costs.indexSelectivity;
	*correlation = 0;
	*pages = costs.numIndexPages;
}

static bytea *
ecs_gi_options(Datum reloptions, bool validate)
{
	return NULL;
}

/* the operator classes of the extension script: nothing to check */
static bool
ecs_gi_validate(Oid opclassoid)
{
	return true;
}

PG_FUNCTION_INFO_V1(ecs_genome_index_handler);

/*
 * ecs_genome_index_handler(internal) index_am_handler
 */
Datum
ecs_genome_index_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 1;
	am->amsupport = 0;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = true;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = false;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = ecs_gi_build;
	am->ambuildempty = ecs_gi_buildempty;
	am->aminsert = ecs_gi_insert;
	am->ambulkdelete = ecs_gi_bulkdelete;
	am->amvacuumcleanup = ecs_gi_vacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = ecs_gi_costestimate;
	am->amoptions = ecs_gi_options;
	am->amproperty = NULL;
	am->ambuildphasename = NULL;
	am->amvalidate = ecs_gi_validate;
	am->amadjustmembers = NULL;
	am->ambeginscan = ecs_gi_beginscan;
	am->amrescan = ecs_gi_rescan;
	am->amgettuple = ecs_gi_gettuple;
	am->amgetbitmap = NULL;
	am->amendscan = ecs_gi_endscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}
