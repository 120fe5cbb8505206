/*-------------------------------------------------------------------------
 *
 * lineage.c
 *		Bounded pedigree walks: ecs_walk(), the engine under ecs_lineage(),
 *		kinship's sub-pedigree and the pedigree-cycle check of writes.
 *
 * A walk is an iterative breadth-first search, one SPI query per level
 * (all ids of the frontier in one $1 text[] parameter), with a visited
 * hash, so it
 *	- visits every agent at most once, at its smallest depth, and ends on
 *	  any data: cycles and self-references included;
 *	- reads ecs.agents only through the executor, so privileges and
 *	  row-level security hold: an agent the caller cannot see is never
 *	  fetched, never returned, and the walk does not pass through it;
 *	- visits at most max_nodes agents, else 54000 program_limit_exceeded,
 *	  before anything is returned (no partial results);
 *	- checks for interrupts once per visited agent.
 * Memory: the rows (one EcsAgentRow per visited agent) and the hash live in
 * the context the caller passes; SPI results are freed per level.
 *
 * IDENTIFICATION
 *		src/lineage.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_type.h"
#include "ecs_agents.h"
#include "funcapi.h"
#include "miscadmin.h"
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
"   OR parent2_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])";

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

static const char *const child_links_sql =
"SELECT " LINK_COLUMNS " FROM ecs.agents "
"WHERE parent1_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[]) "
"UNION ALL "
"SELECT " LINK_COLUMNS " FROM ecs.agents "
"WHERE parent2_id OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[])";

typedef struct WalkSeen
{
	char		key[ECS_AGENT_ID_MAX + 1];
	int32		index;			/* position in rows[] */
} WalkSeen;

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

/* copy a text column into a fixed buffer ("" for NULL) */
static void
copy_id_column(HeapTuple tup, TupleDesc desc, int col, char *buf)
{
	bool		isnull;
	Datum		d = SPI_getbinval(tup, desc, col, &isnull);

	if (isnull)
		buf[0] = '\0';
	else
		text_to_cstring_buffer(DatumGetTextPP(d), buf, ECS_AGENT_ID_MAX + 1);
}

/*
 * Read the SPI result rows into rows[], skipping agents already seen.
 * Returns the new row count.  Raises 54000 when more than max_nodes.
 */
static int
collect_level(HTAB *seen, EcsAgentRow **rows, int *cap, int nrows,
			  int depth, int max_nodes, bool narrow, MemoryContext cxt)
{
	TupleDesc	desc = SPI_tuptable->tupdesc;
	uint64		i;

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		char		id[ECS_AGENT_ID_MAX + 1];
		WalkSeen   *entry;
		bool		found;
		EcsAgentRow *r;
		bool		isnull;
		Datum		d;

		CHECK_FOR_INTERRUPTS();
		copy_id_column(tup, desc, 1, id);
		entry = hash_search(seen, id, HASH_ENTER, &found);
		if (found)
			continue;
		if (nrows >= max_nodes)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("pedigree walk would visit more than %d agents", max_nodes),
					 errdetail("The walk reached depth %d before passing the limit.", depth),
					 errhint("Use a smaller depth, or raise ecs_agents.max_lineage_nodes.")));
		if (nrows >= *cap)
		{
			*cap *= 2;
			*rows = repalloc_huge(*rows, sizeof(EcsAgentRow) * (Size) *cap);
		}
		entry->index = nrows;
		r = &(*rows)[nrows];
		memset(r, 0, sizeof(EcsAgentRow));
		strlcpy(r->agent_id, id, sizeof(r->agent_id));
		copy_id_column(tup, desc, 2, r->parent1_id);
		copy_id_column(tup, desc, 3, r->parent2_id);
		r->depth = depth;
		nrows++;
		if (narrow)
			continue;
		r->generation = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
		d = SPI_getbinval(tup, desc, 5, &isnull);
		r->name = isnull ? NULL : MemoryContextStrdup(cxt, TextDatumGetCString(d));
		d = SPI_getbinval(tup, desc, 6, &isnull);
		if (!isnull)
		{
			char	   *s = TextDatumGetCString(d);

			r->sex = s[0];
		}
		r->active = DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull));
	}
	return nrows;
}

/*
 * ecs_walk
 *		Breadth-first walk from seeds, up to parents (up = true) or down to
 *		children, at most max_depth levels, at most max_nodes agents.
 *		narrow: read only the links (agent_id, parent ids); the other
 *		fields of the rows are left zero.
 *
 * Must be called connected to SPI.  Depth 0 holds the seeds the caller can
 * see (a seed that does not exist or is hidden is simply absent; callers
 * check).  Returns the number of rows; *rows_out is an array allocated in
 * cxt, in BFS order, each agent once at its smallest depth.
 */
int
ecs_walk(char **seeds, int nseeds, bool up, int max_depth, int max_nodes,
		 bool narrow, MemoryContext cxt, EcsAgentRow **rows_out)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);
	MemoryContext levelcxt;
	HASHCTL		ctl;
	HTAB	   *seen;
	EcsAgentRow *rows;
	int			cap = 64;
	int			nrows = 0;
	int			level_start = 0;
	int			depth;

	rows = palloc(sizeof(EcsAgentRow) * cap);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = ECS_AGENT_ID_MAX + 1;
	ctl.entrysize = sizeof(WalkSeen);
	ctl.hcxt = cxt;
	seen = hash_create("ecs walk", 256, &ctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	levelcxt = AllocSetContextCreate(cxt, "ecs walk level", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(oldcxt);

	for (depth = 0; depth <= max_depth; depth++)
	{
		char	  **frontier;
		int			nfront = 0;
		int			i;
		Datum		arg;
		SPIPlanPtr	plan;
		int			rc;
		Oid			types[1] = {TEXTARRAYOID};

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(levelcxt);
		oldcxt = MemoryContextSwitchTo(levelcxt);

		if (depth == 0)
		{
			frontier = seeds;
			nfront = nseeds;
			plan = narrow ? ecs_plan(ECS_PLAN_PARENTS_OF, links_by_id_sql, 1, types)
				: ecs_plan(ECS_PLAN_AGENT_ROWS, rows_by_id_sql, 1, types);
		}
		else
		{
			/* previous level's rows name the next frontier */
			frontier = palloc(sizeof(char *) * Max(1, 2 * (nrows - level_start)));
			for (i = level_start; i < nrows; i++)
			{
				if (up)
				{
					bool		found;

					if (rows[i].parent1_id[0] != '\0')
					{
						hash_search(seen, rows[i].parent1_id, HASH_FIND, &found);
						if (!found)
							frontier[nfront++] = rows[i].parent1_id;
					}
					if (rows[i].parent2_id[0] != '\0')
					{
						hash_search(seen, rows[i].parent2_id, HASH_FIND, &found);
						if (!found)
							frontier[nfront++] = rows[i].parent2_id;
					}
				}
				else
					frontier[nfront++] = rows[i].agent_id;
			}
			if (narrow)
				plan = up ? ecs_plan(ECS_PLAN_PARENTS_OF, links_by_id_sql, 1, types)
					: ecs_plan(ECS_PLAN_CYCLE_WALK, child_links_sql, 1, types);
			else
				plan = up ? ecs_plan(ECS_PLAN_AGENT_ROWS, rows_by_id_sql, 1, types)
					: ecs_plan(ECS_PLAN_CHILDREN_OF, children_of_sql, 1, types);
		}
		if (nfront == 0)
		{
			MemoryContextSwitchTo(oldcxt);
			break;
		}

		arg = ecs_text_array_from_ids(frontier, nfront);
		rc = SPI_execute_plan(plan, &arg, NULL, true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
		MemoryContextSwitchTo(oldcxt);

		level_start = nrows;
		nrows = collect_level(seen, &rows, &cap, nrows, depth, max_nodes, narrow, cxt);
		SPI_freetuptable(SPI_tuptable);
		if (nrows == level_start)
			break;
	}
	MemoryContextDelete(levelcxt);
	*rows_out = rows;
	return nrows;
}

/* one output row of ecs_lineage, kept until the walk(s) are merged */
static void
lineage_emit(ReturnSetInfo *rsinfo, EcsAgentRow *r, const char *relation)
{
	Datum		values[7];
	bool		nulls[7] = {false};

	values[0] = CStringGetTextDatum(r->agent_id);
	values[1] = Int32GetDatum(r->depth);
	values[2] = CStringGetTextDatum(relation);
	values[3] = Int32GetDatum(r->generation);
	if (r->name)
		values[4] = CStringGetTextDatum(r->name);
	else
		nulls[4] = true;
	if (r->sex == 'f')
		values[5] = CStringGetTextDatum("female");
	else if (r->sex == 'm')
		values[5] = CStringGetTextDatum("male");
	else
		nulls[5] = true;
	values[6] = BoolGetDatum(r->active);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
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
	EcsAgentRow *up_rows = NULL,
			   *down_rows = NULL;
	int			nup = 0,
				ndown = 0;
	int			iu,
				id_;
	HASHCTL		ctl;
	HTAB	   *emitted;

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
	SPI_connect();
	if (want_up)
		nup = ecs_walk(&id, 1, true, max_depth, ecs_max_lineage_nodes, false,
					   walkcxt, &up_rows);
	if (want_down)
		ndown = ecs_walk(&id, 1, false, max_depth, ecs_max_lineage_nodes, false,
						 walkcxt, &down_rows);
	SPI_finish();

	if ((want_up ? nup : ndown) == 0)
		ecs_report_unknown_agent(id);

	/*
	 * Both lists are in BFS order (nondecreasing depth).  Merge them by
	 * depth, emitting each agent once at its smallest depth.
	 */
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = ECS_AGENT_ID_MAX + 1;
	ctl.entrysize = ECS_AGENT_ID_MAX + 1;
	ctl.hcxt = walkcxt;
	emitted = hash_create("ecs_lineage emitted", 256, &ctl,
						  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	iu = id_ = 0;
	while (iu < nup || id_ < ndown)
	{
		EcsAgentRow *r;
		const char *relation;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		if (id_ >= ndown || (iu < nup && up_rows[iu].depth <= down_rows[id_].depth))
		{
			r = &up_rows[iu++];
			relation = "ancestor";
		}
		else
		{
			r = &down_rows[id_++];
			relation = "descendant";
		}
		hash_search(emitted, r->agent_id, HASH_ENTER, &found);
		if (found)
			continue;
		lineage_emit(rsinfo, r, r->depth == 0 ? "self" : relation);
	}
	MemoryContextDelete(walkcxt);
	return (Datum) 0;
}
