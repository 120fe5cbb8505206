/*-------------------------------------------------------------------------
 *
 * lineage.c
 *		Bounded pedigree walks: ecs_walk_ids() / ecs_walk(), the engine under
 *		ecs_lineage(), kinship's sub-pedigree and the pedigree-cycle check of
 *		writes; the interned-id table (EcsIdTable) they share; and
 *		ecs_spi_each_row(), which runs a saved plan row by row.
 *
 * A walk is an iterative breadth-first search, one SPI query per level
 * (all ids of the frontier, in index order, in one $1 text[] parameter),
 * with a visited state per interned id, so it
 *	- visits every agent at most once, at its smallest depth, and ends on
 *	  any data: cycles and self-references included;
 *	- reads ecs.agents through the executor, so privileges and row-level
 *	  security hold: an agent the caller cannot see is never fetched, never
 *	  returned, and the walk does not pass through it.  By-id levels first
 *	  ask the agent row cache (agent_cache.c), which fetches rows by their
 *	  remembered heap address under the same snapshot, only for a caller
 *	  with table SELECT and no row-level security; such a level is sorted by
 *	  id, as one index scan would return it;
 *	- visits at most max_nodes agents, else 54000 program_limit_exceeded,
 *	  before anything is returned (no partial results);
 *	- checks for interrupts once per visited agent.
 * Ids are interned once (hashed and compared as bytes, never converted to
 * C strings per row) and rows reach the walk straight from the executor
 * (a DestReceiver, PostgreSQL 14+), not through SPI_tuptable.
 * Memory: rows, names and per-walk state live in the context the caller
 * passes; ids in the table's context; the frontier array of a level in a
 * child context reset per level.
 *
 * IDENTIFICATION
 *		src/lineage.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "ecs_agents.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "tcop/dest.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"

#define ROW_COLUMNS \
	"agent_id::pg_catalog.text, parent1_id::pg_catalog.text, " \
	"parent2_id::pg_catalog.text, generation, name, sex, active"

static const char *const rows_by_id_sql =
"SELECT " ROW_COLUMNS " FROM ecs.agents "
"WHERE agent_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])";

static const char *const children_of_sql =
"SELECT " ROW_COLUMNS " FROM ecs.agents "
"WHERE parent1_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[]) "
"UNION ALL "
"SELECT " ROW_COLUMNS " FROM ecs.agents "
"WHERE parent2_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])";

/*
 * Narrow forms for walks that need only the links (kinship, cycle check):
 * the links indexes INCLUDE the other columns, so these can be index-only
 * scans.
 */
#define LINK_COLUMNS \
	"agent_id::pg_catalog.text, parent1_id::pg_catalog.text, parent2_id::pg_catalog.text"

static const char *const links_by_id_sql =
"SELECT " LINK_COLUMNS " FROM ecs.agents "
"WHERE agent_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])";

/*
 * The by-id forms with the row's address, for the agent row cache
 * (agent_cache.c): the column after the walk's columns is ctid.
 */
static const char *const rows_by_id_tid_sql =
"SELECT " ROW_COLUMNS ", ctid FROM ecs.agents "
"WHERE agent_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])";

static const char *const links_by_id_tid_sql =
"SELECT " LINK_COLUMNS ", ctid FROM ecs.agents "
"WHERE agent_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])";

static const char *const child_links_sql =
"SELECT " LINK_COLUMNS " FROM ecs.agents "
"WHERE parent1_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[]) "
"UNION ALL "
"SELECT " LINK_COLUMNS " FROM ecs.agents "
"WHERE parent2_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])";

/*
 * Interned agent ids (EcsIdTable).
 *
 * Every id a walk meets is stored once, as a text datum with a 4-byte
 * header followed by a NUL (so it is both a valid text Datum and a C
 * string), and numbered densely from 0.  Lookups hash the bytes
 * (hash_bytes) into an open-addressing table kept at most half full; ids
 * are compared as bytes, never through a collation.  Everything lives in
 * the table's memory context.
 */
struct EcsIdTable
{
	MemoryContext cxt;
	int32		n;				/* ids stored */
	int32		cap;			/* allocated length of ids[], hash[] */
	char	  **ids;			/* [cap] text datums (4-byte header, NUL) */
	uint32	   *hash;			/* [cap] hash of each id */
	uint32		mask;			/* nslots - 1 (nslots a power of 2) */
	int32	   *slots;			/* [nslots] id index + 1, 0 = empty */
	char	   *arena;			/* current arena chunk */
	Size		arena_left;
};

#define ECS_IDTAB_CHUNK		(64 * 1024)

/* zeroed memory in cxt, may pass 1 GB */
static inline void *
alloc_huge_zero(MemoryContext cxt, Size size)
{
	return MemoryContextAllocExtended(cxt, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

/*
 * ecs_idtab_create
 *		An empty table in cxt, sized for about expected ids.
 */
EcsIdTable *
ecs_idtab_create(MemoryContext cxt, int expected)
{
	EcsIdTable *tab = MemoryContextAllocZero(cxt, sizeof(EcsIdTable));
	uint32		nslots = 64;

	expected = Max(expected, 16);
	while (nslots < (uint32) expected * 2 && nslots < (1U << 30))
		nslots <<= 1;
	tab->cxt = cxt;
	tab->cap = expected;
	tab->ids = MemoryContextAlloc(cxt, sizeof(char *) * (Size) tab->cap);
	tab->hash = MemoryContextAlloc(cxt, sizeof(uint32) * (Size) tab->cap);
	tab->mask = nslots - 1;
	tab->slots = alloc_huge_zero(cxt, sizeof(int32) * (Size) nslots);
	return tab;
}

static void
idtab_grow_slots(EcsIdTable *tab)
{
	uint32		nslots = (tab->mask + 1) * 2;
	int32	   *slots;
	int32		i;

	if (nslots > (1U << 30))
		elog(ERROR, "agent id table is too large");
	slots = alloc_huge_zero(tab->cxt, sizeof(int32) * (Size) nslots);
	for (i = 0; i < tab->n; i++)
	{
		uint32		s = tab->hash[i] & (nslots - 1);

		while (slots[s] != 0)
			s = (s + 1) & (nslots - 1);
		slots[s] = i + 1;
	}
	pfree(tab->slots);
	tab->slots = slots;
	tab->mask = nslots - 1;
}

/*
 * ecs_idtab_lookup
 *		Index of the id of len bytes at id; when absent, -1, or (insert) a
 *		new index.  *found, when not NULL, says whether it was there.
 */
int
ecs_idtab_lookup(EcsIdTable *tab, const char *id, int len, bool insert, bool *found)
{
	uint32		h = hash_bytes((const unsigned char *) id, len);
	uint32		s = h & tab->mask;
	char	   *t;
	Size		sz;

	for (;;)
	{
		int32		k = tab->slots[s];

		if (k == 0)
			break;
		k--;
		if (tab->hash[k] == h && VARSIZE(tab->ids[k]) == VARHDRSZ + len &&
			memcmp(VARDATA(tab->ids[k]), id, len) == 0)
		{
			if (found)
				*found = true;
			return k;
		}
		s = (s + 1) & tab->mask;
	}
	if (found)
		*found = false;
	if (!insert)
		return -1;

	if (tab->n >= tab->cap)
	{
		int32		newcap = tab->cap * 2;

		tab->ids = repalloc_huge(tab->ids, sizeof(char *) * (Size) newcap);
		tab->hash = repalloc_huge(tab->hash, sizeof(uint32) * (Size) newcap);
		tab->cap = newcap;
	}
	sz = INTALIGN(VARHDRSZ + len + 1);
	if (sz > tab->arena_left)
	{
		tab->arena = MemoryContextAlloc(tab->cxt, ECS_IDTAB_CHUNK);
		tab->arena_left = ECS_IDTAB_CHUNK;
	}
	t = tab->arena;
	tab->arena += sz;
	tab->arena_left -= sz;
	SET_VARSIZE(t, VARHDRSZ + len);
	memcpy(VARDATA(t), id, len);
	VARDATA(t)[len] = '\0';
	tab->ids[tab->n] = t;
	tab->hash[tab->n] = h;
	tab->slots[s] = tab->n + 1;
	tab->n++;
	if ((uint32) tab->n * 2 > tab->mask + 1)
		idtab_grow_slots(tab);
	return tab->n - 1;
}

/* index of a text datum's id (see ecs_idtab_lookup) */
static inline int
idtab_text(EcsIdTable *tab, Datum d, bool insert, bool *found)
{
	text	   *t = DatumGetTextPP(d);

	return ecs_idtab_lookup(tab, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), insert, found);
}

/* number of ids stored */
int
ecs_idtab_count(const EcsIdTable *tab)
{
	return tab->n;
}

/* id i as a NUL-terminated string (lives as long as the table) */
const char *
ecs_idtab_cstring(const EcsIdTable *tab, int i)
{
	Assert(i >= 0 && i < tab->n);
	return VARDATA(tab->ids[i]);
}

/* id i as a text Datum (lives as long as the table; do not modify) */
Datum
ecs_idtab_text(const EcsIdTable *tab, int i)
{
	Assert(i >= 0 && i < tab->n);
	return PointerGetDatum(tab->ids[i]);
}

/*
 * ecs_text_array_from_ids
 *		A text[] datum of n NUL-terminated ids, in the current context.
 */
Datum
ecs_text_array_from_ids(char **ids, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	ArrayType  *arr;
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = PointerGetDatum(cstring_to_text(ids[i]));
	arr = construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
	return PointerGetDatum(arr);
}

/*
 * Running a saved plan row by row (ecs_spi_each_row).
 *
 * On PostgreSQL 14 and later the rows go straight from the executor to fn
 * through a DestReceiver: no copy of each row into SPI_tuptable.  Before 14
 * the rows are read from SPI_tuptable.  fn sees the row's values only for
 * the duration of the call: it copies what it keeps.
 */
#if PG_VERSION_NUM >= 140000
typedef struct RowReceiver
{
	DestReceiver pub;
	EcsRowFn	fn;
	void	   *arg;
} RowReceiver;

static bool
row_receive(TupleTableSlot *slot, DestReceiver *self)
{
	RowReceiver *rr = (RowReceiver *) self;

	slot_getallattrs(slot);
	rr->fn(slot->tts_values, slot->tts_isnull, rr->arg);
	return true;
}

static void
row_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
row_shutdown(DestReceiver *self)
{
}

static void
row_destroy(DestReceiver *self)
{
}
#endif

/*
 * ecs_spi_each_row
 *		Execute plan (read-only) with nargs parameters args of types types,
 *		calling fn(values, nulls, arg) for every row.  Connected to SPI.
 */
void
ecs_spi_each_row(SPIPlanPtr plan, int nargs, const Datum *args, const Oid *types,
				 EcsRowFn fn, void *arg)
{
	int			rc;
#if PG_VERSION_NUM >= 140000
	RowReceiver rr;
	SPIExecuteOptions opt;
	ParamListInfo params = makeParamList(nargs);
	int			i;

	for (i = 0; i < nargs; i++)
	{
		params->params[i].value = args[i];
		params->params[i].isnull = false;
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].ptype = types[i];
	}
	memset(&rr, 0, sizeof(rr));
	rr.pub.receiveSlot = row_receive;
	rr.pub.rStartup = row_startup;
	rr.pub.rShutdown = row_shutdown;
	rr.pub.rDestroy = row_destroy;
	/* not DestNone (SPI would report a discarded result) nor DestSPI */
	rr.pub.mydest = DestTuplestore;
	rr.fn = fn;
	rr.arg = arg;
	memset(&opt, 0, sizeof(opt));
	opt.params = params;
	opt.read_only = true;
	opt.dest = &rr.pub;
	rc = SPI_execute_plan_extended(plan, &opt);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan_extended failed: %s", SPI_result_code_string(rc));
#else
	uint64		r;
	Datum	   *values;
	bool	   *nulls;

	rc = SPI_execute_plan(plan, (Datum *) args, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	values = palloc(sizeof(Datum) * SPI_tuptable->tupdesc->natts);
	nulls = palloc(sizeof(bool) * SPI_tuptable->tupdesc->natts);
	for (r = 0; r < SPI_processed; r++)
	{
		heap_deform_tuple(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, values, nulls);
		fn(values, nulls, arg);
	}
	SPI_freetuptable(SPI_tuptable);
	pfree(values);
	pfree(nulls);
#endif
}

/* state of one walk, shared with its row callback */
typedef struct Walk
{
	EcsIdTable *tab;
	int32	   *state;			/* per id: 0 unseen, -1 asked for, k > 0 row k-1 */
	int32		nstate;
	EcsWalkRow *rows;
	int			nrows;
	int			cap;
	int			depth;			/* level being read */
	int			max_nodes;
	bool		narrow;
	MemoryContext cxt;
	EcsHintScan *hints;			/* agent row cache of a by-id level, or NULL */
} Walk;

/* grow w->state to cover every id of the table (new ids unseen) */
static void
walk_cover(Walk *w)
{
	int32		n = ecs_idtab_count(w->tab);

	if (n > w->nstate)
	{
		int32		newn = Max(n, w->nstate * 2);

		w->state = repalloc_huge(w->state, sizeof(int32) * (Size) newn);
		memset(w->state + w->nstate, 0, sizeof(int32) * (Size) (newn - w->nstate));
		w->nstate = newn;
	}
}

/*
 * One row of a level: (agent_id, parent1_id, parent2_id[, generation, name,
 * sex, active]).  An agent already visited is skipped; else it becomes row
 * nrows at the current depth.  54000 past max_nodes.
 */
static void
walk_row(Datum *values, bool *nulls, void *arg)
{
	Walk	   *w = (Walk *) arg;
	EcsWalkRow *r;
	int			id;

	CHECK_FOR_INTERRUPTS();
	id = idtab_text(w->tab, values[0], true, NULL);
	walk_cover(w);
	if (w->state[id] > 0)
		return;
	if (w->nrows >= w->max_nodes)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("pedigree walk would visit more than %d agents", w->max_nodes),
				 errdetail("The walk reached depth %d before passing the limit.", w->depth),
				 errhint("Use a smaller depth, or raise ecs_agents.max_lineage_nodes.")));
	if (w->nrows >= w->cap)
	{
		w->cap *= 2;
		w->rows = repalloc_huge(w->rows, sizeof(EcsWalkRow) * (Size) w->cap);
	}
	w->state[id] = w->nrows + 1;
	r = &w->rows[w->nrows++];
	r->id = id;
	r->p1 = nulls[1] ? -1 : idtab_text(w->tab, values[1], true, NULL);
	r->p2 = nulls[2] ? -1 : idtab_text(w->tab, values[2], true, NULL);
	r->depth = w->depth;
	r->generation = 0;
	r->name = NULL;
	r->sex = '\0';
	r->active = false;
	if (w->narrow)
		return;
	r->generation = DatumGetInt32(values[3]);
	if (!nulls[4])
	{
		struct varlena *name = PG_DETOAST_DATUM_PACKED(values[4]);

		r->name = MemoryContextAlloc(w->cxt, VARSIZE_ANY(name));
		memcpy(r->name, name, VARSIZE_ANY(name));
	}
	if (!nulls[5])
		r->sex = VARDATA_ANY(DatumGetTextPP(values[5]))[0];
	r->active = DatumGetBool(values[6]);
}

/* frontier order: bytes, then length (the index's order under C-like collations) */
static int
cmp_ids(const void *a, const void *b, void *arg)
{
	EcsIdTable *tab = (EcsIdTable *) arg;
	const char *x = tab->ids[*(const int32 *) a];
	const char *y = tab->ids[*(const int32 *) b];
	int			lx = VARSIZE(x) - VARHDRSZ,
				ly = VARSIZE(y) - VARHDRSZ;
	int			c = memcmp(VARDATA(x), VARDATA(y), Min(lx, ly));

	return c != 0 ? c : (lx > ly) - (lx < ly);
}

/* rows in frontier order (EcsWalkRow begins with its id) */
static int
cmp_rows(const void *a, const void *b, void *arg)
{
	return cmp_ids(&((const EcsWalkRow *) a)->id, &((const EcsWalkRow *) b)->id, arg);
}

/*
 * A level read partly from the agent row cache and partly through SPI, in
 * id order, as one index scan would have returned it; the state of its
 * rows follows them.
 */
static void
walk_sort_level(Walk *w, int level_start)
{
	int			i;

	qsort_arg(w->rows + level_start, w->nrows - level_start, sizeof(EcsWalkRow),
			  cmp_rows, w->tab);
	for (i = level_start; i < w->nrows; i++)
		w->state[w->rows[i].id] = i + 1;
}

/* walk_row() for a row read through SPI with its ctid: remember where it is */
static void
walk_row_remember(Datum *values, bool *nulls, void *arg)
{
	Walk	   *w = (Walk *) arg;
	text	   *id = DatumGetTextPP(values[0]);

	walk_row(values, nulls, arg);
	ecs_hints_remember(w->hints, VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id),
					   (ItemPointer) DatumGetPointer(values[w->narrow ? 3 : ECS_HINT_COLUMNS]));
}

/*
 * ecs_walk_ids
 *		Breadth-first walk from seeds (indexes of tab), up to parents (up)
 *		or down to children, at most max_depth levels, at most max_nodes
 *		agents.  narrow: read only the links; the other fields of the rows
 *		are left zero.
 *
 * Must be called connected to SPI.  Every id met (rows and their parents)
 * is interned into tab.  Depth 0 holds the seeds the caller can see (a
 * seed that does not exist or is hidden is simply absent; callers check).
 * seed_rows, when not NULL, are the seeds' rows (parents as indexes of
 * tab) that the caller has read itself in the same snapshot, all visible:
 * they become depth 0 without a query.
 * Returns the number of rows; *rows_out is an array allocated in cxt, in
 * BFS order, each agent once at its smallest depth; names (text) in cxt.
 */
int
ecs_walk_ids(EcsIdTable *tab, const int32 *seeds, int nseeds, const EcsWalkRow *seed_rows,
			 bool up, int max_depth, int max_nodes, bool narrow, MemoryContext cxt,
			 EcsWalkRow **rows_out)
{
	MemoryContext oldcxt;
	MemoryContext levelcxt;
	Walk		w;
	int32	   *frontier;
	int			fcap;
	int			level_start = 0;
	bool		hints_tried = false;
	Oid			types[1] = {TEXTARRAYOID};

	memset(&w, 0, sizeof(w));
	w.tab = tab;
	w.cxt = cxt;
	w.narrow = narrow;
	w.max_nodes = max_nodes;
	w.cap = 64;
	w.rows = MemoryContextAlloc(cxt, sizeof(EcsWalkRow) * w.cap);
	w.nstate = Max(ecs_idtab_count(tab), 64);
	w.state = alloc_huge_zero(cxt, sizeof(int32) * (Size) w.nstate);
	fcap = Max(nseeds, 64);
	frontier = MemoryContextAlloc(cxt, sizeof(int32) * fcap);
	levelcxt = AllocSetContextCreate(cxt, "ecs walk level", ALLOCSET_DEFAULT_SIZES);

	w.depth = 0;
	if (seed_rows != NULL)
	{
		/* depth 0 read by the caller: the walk starts one level up */
		int			i;

		for (i = 0; i < nseeds; i++)
		{
			EcsWalkRow *r;

			if (w.state[seeds[i]] > 0)
				continue;
			if (w.nrows >= w.max_nodes)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("pedigree walk would visit more than %d agents", w.max_nodes),
						 errdetail("The walk reached depth %d before passing the limit.", 0),
						 errhint("Use a smaller depth, or raise ecs_agents.max_lineage_nodes.")));
			if (w.nrows >= w.cap)
			{
				w.cap *= 2;
				w.rows = repalloc_huge(w.rows, sizeof(EcsWalkRow) * (Size) w.cap);
			}
			w.state[seeds[i]] = w.nrows + 1;
			r = &w.rows[w.nrows++];
			*r = seed_rows[i];
			r->id = seeds[i];
			r->depth = 0;
		}
		w.depth = 1;
	}
	for (; w.depth <= max_depth; w.depth++)
	{
		int			nfront = 0;
		int			i;
		Datum		arg;
		Datum	   *elems;
		SPIPlanPtr	plan;
		bool		by_id;
		int			nseen = 0;	/* misses the cache had met before */

		CHECK_FOR_INTERRUPTS();
		walk_cover(&w);
		if (w.depth == 0)
		{
			for (i = 0; i < nseeds; i++)
				if (w.state[seeds[i]] == 0)
				{
					w.state[seeds[i]] = -1;
					frontier[nfront++] = seeds[i];
				}
		}
		else
		{
			/* the previous level's rows name the next frontier */
			int			need = 2 * (w.nrows - level_start);

			if (need > fcap)
			{
				fcap = Max(need, fcap * 2);
				frontier = repalloc_huge(frontier, sizeof(int32) * (Size) fcap);
			}
			for (i = level_start; i < w.nrows; i++)
			{
				EcsWalkRow *r = &w.rows[i];

				if (!up)
					frontier[nfront++] = r->id;
				else
				{
					if (r->p1 >= 0 && w.state[r->p1] == 0)
					{
						w.state[r->p1] = -1;
						frontier[nfront++] = r->p1;
					}
					if (r->p2 >= 0 && w.state[r->p2] == 0)
					{
						w.state[r->p2] = -1;
						frontier[nfront++] = r->p2;
					}
				}
			}
		}
		if (nfront == 0)
			break;

		by_id = w.depth == 0 || up;
		if (by_id && w.hints == NULL && !hints_tried)
		{
			w.hints = ecs_hints_begin(!narrow);
			hints_tried = true;
		}

		/*
		 * The frontier in index order: the index scan sorts its keys anyway,
		 * and finds them presorted.
		 */
		level_start = w.nrows;
		qsort_arg(frontier, nfront, sizeof(int32), cmp_ids, tab);
		if (by_id && w.hints != NULL)
		{
			/* rows the cache still holds; the others go to SPI */
			int			nmiss = 0;
			char	  **keys;
			EcsHintResult *res;

			MemoryContextReset(levelcxt);
			keys = MemoryContextAlloc(levelcxt, sizeof(char *) * nfront);
			res = MemoryContextAlloc(levelcxt, sizeof(EcsHintResult) * nfront);
			for (i = 0; i < nfront; i++)
				keys[i] = tab->ids[frontier[i]];
			ecs_hints_fetch_level(w.hints, keys, nfront, walk_row, &w, res);
			for (i = 0; i < nfront; i++)
			{
				if (res[i] == ECS_HINT_HIT)
					continue;
				if (res[i] == ECS_HINT_SEEN)
					nseen++;
				frontier[nmiss++] = frontier[i];
			}
			nfront = nmiss;
		}
		if (nfront > 0)
		{
			EcsRowFn	fn = walk_row;

			if (!by_id)
				plan = narrow ? ecs_plan(ECS_PLAN_CYCLE_WALK, child_links_sql, 1, types)
					: ecs_plan(ECS_PLAN_CHILDREN_OF, children_of_sql, 1, types);
			else if (w.hints == NULL || nseen * 2 < nfront)
				plan = narrow ? ecs_plan(ECS_PLAN_PARENTS_OF, links_by_id_sql, 1, types)
					: ecs_plan(ECS_PLAN_AGENT_ROWS, rows_by_id_sql, 1, types);
			else
			{
				/* mostly ids met before: learn (or refresh) their addresses */
				plan = narrow ? ecs_plan(ECS_PLAN_PARENTS_OF_TID, links_by_id_tid_sql, 1, types)
					: ecs_plan(ECS_PLAN_AGENT_ROWS_TID, rows_by_id_tid_sql, 1, types);
				fn = walk_row_remember;
			}
			MemoryContextReset(levelcxt);
			oldcxt = MemoryContextSwitchTo(levelcxt);
			elems = palloc(sizeof(Datum) * nfront);
			for (i = 0; i < nfront; i++)
				elems[i] = ecs_idtab_text(tab, frontier[i]);
			arg = PointerGetDatum(construct_array(elems, nfront, TEXTOID, -1, false, TYPALIGN_INT));
			MemoryContextSwitchTo(oldcxt);
			ecs_spi_each_row(plan, 1, &arg, types, fn, &w);
		}
		if (w.nrows == level_start)
			break;
		if (by_id && w.hints != NULL)
			walk_sort_level(&w, level_start);
	}
	if (w.hints != NULL)
	{
		uint64		hits,
					misses;

		ecs_hints_stats(w.hints, &hits, &misses);
		elog(DEBUG2, "ancestor walk: %llu rows from the agent row cache, %llu looked up",
			 (unsigned long long) hits, (unsigned long long) misses);
		ecs_hints_end(w.hints);
	}
	MemoryContextDelete(levelcxt);
	pfree(w.state);
	pfree(frontier);
	*rows_out = w.rows;
	return w.nrows;
}

/*
 * ecs_walk
 *		ecs_walk_ids() for seeds given as strings, rows as EcsAgentRow
 *		(fixed-size ids, name as a C string), all in cxt.
 */
int
ecs_walk(char **seeds, int nseeds, bool up, int max_depth, int max_nodes,
		 bool narrow, MemoryContext cxt, EcsAgentRow **rows_out)
{
	EcsIdTable *tab = ecs_idtab_create(cxt, 256);
	int32	   *sidx = MemoryContextAlloc(cxt, sizeof(int32) * Max(nseeds, 1));
	EcsWalkRow *wr;
	EcsAgentRow *rows;
	int			n,
				i;

	for (i = 0; i < nseeds; i++)
		sidx[i] = ecs_idtab_lookup(tab, seeds[i], strlen(seeds[i]), true, NULL);
	n = ecs_walk_ids(tab, sidx, nseeds, NULL, up, max_depth, max_nodes, narrow, cxt, &wr);
	rows = MemoryContextAllocHuge(cxt, sizeof(EcsAgentRow) * (Size) Max(n, 1));
	for (i = 0; i < n; i++)
	{
		EcsAgentRow *r = &rows[i];

		CHECK_FOR_INTERRUPTS();
		strlcpy(r->agent_id, ecs_idtab_cstring(tab, wr[i].id), sizeof(r->agent_id));
		strlcpy(r->parent1_id, wr[i].p1 >= 0 ? ecs_idtab_cstring(tab, wr[i].p1) : "",
				sizeof(r->parent1_id));
		strlcpy(r->parent2_id, wr[i].p2 >= 0 ? ecs_idtab_cstring(tab, wr[i].p2) : "",
				sizeof(r->parent2_id));
		r->generation = wr[i].generation;
		r->depth = wr[i].depth;
		r->active = wr[i].active;
		r->sex = wr[i].sex;
		r->name = wr[i].name ? MemoryContextStrdup(cxt, text_to_cstring((text *) wr[i].name)) : NULL;
	}
	*rows_out = rows;
	return n;
}

PG_FUNCTION_INFO_V1(ecs_lineage);

/*
 * ecs_lineage(agent_id text, max_depth int, direction text)
 *		RETURNS TABLE (agent_id, depth, relation, generation, name, sex, active)
 *
 * STRICT.  The start agent is returned at depth 0 with relation 'self';
 * then every visible ancestor ('ancestor') and/or descendant ('descendant')
 * within max_depth generations, once, at its smallest depth.  'both' is the
 * union of the two walks (never a mixed up-and-down path).  Rows come in
 * nondecreasing depth; ORDER BY for any finer order.
 * Errors: 22023 bad id, depth outside 0..ecs_agents.max_lineage_depth or
 * unknown direction; P0002 unknown agent; 54000 past max_lineage_nodes.
 * Nothing is put in the result before both walks are complete.
 */
Datum
ecs_lineage(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *id = ecs_agent_id_check(PG_GETARG_TEXT_PP(0), "agent_id");
	int32		max_depth = PG_GETARG_INT32(1);
	char	   *direction = text_to_cstring(PG_GETARG_TEXT_PP(2));
	bool		want_up,
				want_down;
	MemoryContext walkcxt;
	EcsIdTable *tab;
	int32		seed;
	EcsWalkRow *up_rows = NULL,
			   *down_rows = NULL;
	int			nup = 0,
				ndown = 0;
	int			iu,
				id_;
	bool	   *emitted = NULL;
	Datum		rel_self,
				rel_up,
				rel_down,
				sex_f,
				sex_m;

	if (strcmp(direction, "ancestors") == 0)
		want_up = true, want_down = false;
	else if (strcmp(direction, "descendants") == 0)
		want_up = false, want_down = true;
	else if (strcmp(direction, "both") == 0)
		want_up = true, want_down = true;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid lineage direction \"%s\"", direction),
				 errhint("Use \"ancestors\", \"descendants\" or \"both\".")));
	if (max_depth < 0 || max_depth > ecs_max_lineage_depth)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lineage depth %d is out of range", max_depth),
				 errdetail("The depth must be between 0 and %d (ecs_agents.max_lineage_depth).",
						   ecs_max_lineage_depth)));

	InitMaterializedSRF(fcinfo, 0);

	walkcxt = AllocSetContextCreate(CurrentMemoryContext, "ecs_lineage",
									ALLOCSET_DEFAULT_SIZES);
	tab = ecs_idtab_create(walkcxt, 256);
	seed = ecs_idtab_lookup(tab, id, strlen(id), true, NULL);
	SPI_connect();
	if (want_up)
		nup = ecs_walk_ids(tab, &seed, 1, NULL, true, max_depth, ecs_max_lineage_nodes, false,
						   walkcxt, &up_rows);
	if (want_down)
		ndown = ecs_walk_ids(tab, &seed, 1, NULL, false, max_depth, ecs_max_lineage_nodes, false,
							 walkcxt, &down_rows);
	SPI_finish();

	if ((want_up ? nup : ndown) == 0)
		ecs_report_unknown_agent(id);

	/*
	 * Both lists are in BFS order (nondecreasing depth).  Merge them by
	 * depth, emitting each agent once at its smallest depth (the ids of
	 * both walks are indexes of the one table).  A single walk has no
	 * duplicates to drop.
	 */
	if (want_up && want_down)
		emitted = alloc_huge_zero(walkcxt, sizeof(bool) * (Size) ecs_idtab_count(tab));
	rel_self = CStringGetTextDatum("self");
	rel_up = CStringGetTextDatum("ancestor");
	rel_down = CStringGetTextDatum("descendant");
	sex_f = CStringGetTextDatum("female");
	sex_m = CStringGetTextDatum("male");
	iu = id_ = 0;
	while (iu < nup || id_ < ndown)
	{
		EcsWalkRow *r;
		Datum		values[7];
		bool		nulls[7] = {false};

		CHECK_FOR_INTERRUPTS();
		if (id_ >= ndown || (iu < nup && up_rows[iu].depth <= down_rows[id_].depth))
		{
			r = &up_rows[iu++];
			values[2] = rel_up;
		}
		else
		{
			r = &down_rows[id_++];
			values[2] = rel_down;
		}
		if (emitted)
		{
			if (emitted[r->id])
				continue;
			emitted[r->id] = true;
		}
		if (r->depth == 0)
			values[2] = rel_self;
		values[0] = ecs_idtab_text(tab, r->id);
		values[1] = Int32GetDatum(r->depth);
		values[3] = Int32GetDatum(r->generation);
		if (r->name)
			values[4] = PointerGetDatum(r->name);
		else
			nulls[4] = true;
		if (r->sex == 'f')
			values[5] = sex_f;
		else if (r->sex == 'm')
			values[5] = sex_m;
		else
			nulls[5] = true;
		values[6] = BoolGetDatum(r->active);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextDelete(walkcxt);
	return (Datum) 0;
}
