/*-------------------------------------------------------------------------
 *
 * ecs_agents.c
 *		Module entry: PG_MODULE_MAGIC, _PG_init and the ecs_agents.* settings,
 *		plus the helpers every SQL-callable function shares: agent-id
 *		validation, the "agent does not exist" report and the SPI plan cache.
 *
 * Invariants
 *	- The GUC variables below and the plan cache are the only mutable
 *	  process-wide state.  The plan cache holds one saved SPIPlanPtr per
 *	  fixed query text (EcsPlanSlot); saved plans are revalidated by the
 *	  plan cache on DDL and replanned on role changes (so row-level security
 *	  is applied for the current user).
 *	- Every agent id that reaches a query has passed ecs_agent_id_check(),
 *	  and is sent as a $n parameter, never spliced into SQL text.
 *
 * IDENTIFICATION
 *		src/ecs_agents.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <limits.h>

#include "catalog/namespace.h"
#include "ecs_agents.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

PG_MODULE_MAGIC;

int			ecs_kinship_depth = 4;
double		ecs_kinship_penalty = 1.0;
double		ecs_max_relatedness = 0.25;
int			ecs_max_lineage_depth = 32;
int			ecs_max_lineage_nodes = 100000;
bool		ecs_genome_index_simd = true;
bool		ecs_genome_index_cache = true;
bool		ecs_agent_row_cache = true;

static SPIPlanPtr ecs_plan_cache[ECS_PLAN_SLOT_COUNT];

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("ecs_agents.kinship_depth",
							"Generations of the pedigree above each agent that kinship looks at.",
							"Parents farther up count as unknown.",
							&ecs_kinship_depth,
							4, 0, 32,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("ecs_agents.kinship_penalty",
							 "Weight of relatedness in the final compatibility score.",
							 "final = trait_score * max(0, 1 - kinship_penalty * relatedness).",
							 &ecs_kinship_penalty,
							 1.0, 0.0, 1000.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomRealVariable("ecs_agents.max_relatedness",
							 "Relatedness at or above which two agents are not eligible mates.",
							 NULL,
							 &ecs_max_relatedness,
							 0.25, 0.0, 2.0,
							 PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("ecs_agents.max_lineage_depth",
							"Largest depth a lineage walk accepts.",
							NULL,
							&ecs_max_lineage_depth,
							32, 0, 10000,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("ecs_agents.max_lineage_nodes",
							"Largest number of agents one walk or kinship sub-pedigree may visit.",
							"A walk that would visit more raises program_limit_exceeded.",
							&ecs_max_lineage_nodes,
							100000, 1, 100000000,
							PGC_USERSET, 0, NULL, NULL, NULL);

	DefineCustomBoolVariable("ecs_agents.genome_index_simd",
							 "Use the AVX2 kernel for genome index bounds when the CPU has it.",
							 "Off runs the scalar kernel, which computes the same bounds (for tests and diagnosis).",
							 &ecs_genome_index_simd,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("ecs_agents.genome_index_cache",
							 "Let genome index scans read a copy of the index kept in backend memory.",
							 "The copy (about 34 bytes per row, grouped by the second key column) is made when the index did not change between two scans and is used while it does not change.",
							 &ecs_genome_index_cache,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("ecs_agents.agent_row_cache",
							 "Let ancestor walks fetch agent rows by heap addresses remembered in backend memory.",
							 "Each remembered row is checked against the caller's snapshot and its id on every use; misses read through the id index.",
							 &ecs_agent_row_cache,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	MarkGUCPrefixReserved("ecs_agents");
}

/*
 * ecs_agent_id_check_cstring
 *		Validate an id of len bytes (not necessarily NUL-terminated).
 *
 * Returns a palloc'd NUL-terminated copy in the current memory context.
 * Raises 22023 invalid_parameter_value naming the (shortened) bad value;
 * argname, when not NULL, names the argument in the detail.
 */
char *
ecs_agent_id_check_cstring(const char *id, int len, const char *argname)
{
	if (!ecs_agent_id_is_valid(id, len))
	{
		/* show at most 64 bytes of a huge value, cut on a character boundary */
		int			shown = len > 64 ? pg_mbcliplen(id, len, 64) : len;

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid agent id \"%.*s%s\"", shown, id,
						shown < len ? "..." : ""),
				 argname ?
				 errdetail("Argument %s has %d bytes; agent ids are 3 to 64 characters of A-Z, a-z, 0-9, \"_\" and \"-\".",
						   argname, len) :
				 errdetail("The value has %d bytes; agent ids are 3 to 64 characters of A-Z, a-z, 0-9, \"_\" and \"-\".",
						   len)));
	}
	return pnstrdup(id, len);
}

/*
 * ecs_agent_id_check
 *		Validate a text agent id; see ecs_agent_id_check_cstring.
 */
char *
ecs_agent_id_check(text *id, const char *argname)
{
	return ecs_agent_id_check_cstring(VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id),
									  argname);
}

/*
 * ecs_report_unknown_agent
 *		Raise P0002 no_data_found for an id that is valid but names no agent
 *		the caller can see.  Rows hidden by row-level security look exactly
 *		like missing rows, on purpose.
 */
void
ecs_report_unknown_agent(const char *id)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("agent \"%s\" does not exist", id),
			 errhint("Check the id, or list agents with SELECT agent_id FROM ecs.agents.")));
}

/*
 * ecs_plan
 *		Return the saved plan for slot, preparing it on first use.
 *
 * Must be called while connected to SPI.  The query text of a slot never
 * changes; it uses $n parameters only.  The plan lives in the plan cache's
 * own memory (SPI_keepplan) for the life of the backend.  Plans are generic
 * (planned once): the queries are index lookups by id whose best plan does
 * not depend on the values, and re-planning every call would cost more than
 * the lookups.
 */
SPIPlanPtr
ecs_plan(int slot, const char *sql, int nargs, const Oid *argtypes)
{
	SPIPlanPtr	plan;

	Assert(slot >= 0 && slot < ECS_PLAN_SLOT_COUNT);
	if (ecs_plan_cache[slot] != NULL)
		return ecs_plan_cache[slot];
	if (sql == NULL)
		elog(ERROR, "plan slot %d is empty", slot);

	plan = SPI_prepare_cursor(sql, nargs, (Oid *) argtypes, CURSOR_OPT_GENERIC_PLAN);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	ecs_plan_cache[slot] = plan;
	return plan;
}

/*
 * ecs_plan_set
 *		Replace the saved plan of slot (for queries whose text depends on
 *		the extension's schema); the old plan is freed.
 */
void
ecs_plan_set(int slot, SPIPlanPtr plan)
{
	Assert(slot >= 0 && slot < ECS_PLAN_SLOT_COUNT);
	if (ecs_plan_cache[slot] != NULL && ecs_plan_cache[slot] != plan)
		SPI_freeplan(ecs_plan_cache[slot]);
	ecs_plan_cache[slot] = plan;
}

PG_FUNCTION_INFO_V1(ecs_validate_agent_id);

/*
 * ecs_validate_agent_id(id text) returns text
 *		The id itself when valid, else 22023.  Used by the SQL writers so
 *		that every path validates ids with the same rule and message.
 */
Datum
ecs_validate_agent_id(PG_FUNCTION_ARGS)
{
	text	   *id = PG_GETARG_TEXT_PP(0);

	(void) ecs_agent_id_check(id, NULL);
	PG_RETURN_TEXT_P(id);
}

#if PG_VERSION_NUM < 150000
/*
 * Stand-in for InitMaterializedSRF() on releases before 15.
 */
void
ecs_compat_init_materialized_srf(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcxt;
	TupleDesc	tupdesc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		(rsinfo->allowedModes & SFRM_Materialize) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(oldcxt);
}
#endif

/*
 * ecs_table_oid
 *		The OID of table ecs.<relname>, or InvalidOid when there is none (for
 *		the paths that read a table directly and step aside without it).
 */
Oid
ecs_table_oid(const char *relname)
{
	Oid			nsp = get_namespace_oid("ecs", true);

	return OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;
}

/*
 * ecs_snapshot_key_set
 *		Keep what snap (MVCC) sees as committed, in k; arrays in cxt.
 */
void
ecs_snapshot_key_set(EcsSnapshotKey *k, Snapshot snap, MemoryContext cxt)
{
	k->xmin = snap->xmin;
	k->xmax = snap->xmax;
	k->xcnt = snap->xcnt;
	k->subxcnt = snap->subxcnt;
	k->suboverflowed = snap->suboverflowed;
	k->recovery = snap->takenDuringRecovery;
	k->xip = MemoryContextAlloc(cxt, sizeof(TransactionId) * Max(k->xcnt, 1));
	if (k->xcnt > 0)
		memcpy(k->xip, snap->xip, sizeof(TransactionId) * k->xcnt);
	k->subxip = MemoryContextAlloc(cxt, sizeof(TransactionId) * Max(k->subxcnt, 1));
	if (k->subxcnt > 0)
		memcpy(k->subxip, snap->subxip, sizeof(TransactionId) * k->subxcnt);
}

/*
 * ecs_snapshot_key_matches
 *		Whether snap (MVCC) has the same xmin, xmax and in-progress lists as
 *		the snapshot kept in k: then every transaction below xmax is equally
 *		visible to both (commit status never changes), so both see the same
 *		committed rows.
 */
bool
ecs_snapshot_key_matches(const EcsSnapshotKey *k, Snapshot snap)
{
	if (k->xmin != snap->xmin || k->xmax != snap->xmax ||
		k->xcnt != snap->xcnt || k->subxcnt != snap->subxcnt ||
		k->suboverflowed != snap->suboverflowed ||
		k->recovery != snap->takenDuringRecovery)
		return false;
	if (k->xcnt > 0 && memcmp(k->xip, snap->xip, sizeof(TransactionId) * k->xcnt) != 0)
		return false;
	if (k->subxcnt > 0 &&
		memcmp(k->subxip, snap->subxip, sizeof(TransactionId) * k->subxcnt) != 0)
		return false;
	return true;
}
