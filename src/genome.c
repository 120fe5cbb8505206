/*-------------------------------------------------------------------------
 *
 * genome.c
 *		Genome access and the trait score (SPEC section 3), pure: no I/O but
 *		the one SPI read of the trait catalog.
 *
 *		target_t(a) = a_t (similar) or 1 - a_t (complement)
 *		trait_score(a, b) = 1 - sum_t w_t |target_t(a) - b_t| / sum_t w_t
 *
 * ecs_genome_score(genome, target, weights) is the per-row scorer that mate
 * search pushes into `ORDER BY score DESC LIMIT k` (SPEC section 9): a pure
 * function of the candidate's genome and two constant arrays.
 *
 * Invariants: stored genomes are validated by the agents trigger; a genome
 * whose length no longer matches the catalog (catalog edited by hand, rows
 * loaded with triggers off) is reported as 22000 data_exception, never read
 * past its end.
 *
 * IDENTIFICATION
 *		src/genome.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "ecs_agents.h"
#include "genome_index.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

static const char *const catalog_sql =
"SELECT position, weight, mode OPERATOR(pg_catalog.=) 'complement', mutation_sd "
"FROM ecs.trait_catalog ORDER BY position";

/*
 * ecs_catalog_load
 *		Read the trait catalog (connected to SPI).  Result in cxt.
 *		22000 when positions are not 0..n-1 or the catalog is empty.
 */
EcsCatalog *
ecs_catalog_load(MemoryContext cxt)
{
	SPIPlanPtr	plan = ecs_plan(ECS_PLAN_CATALOG, catalog_sql, 0, NULL);
	EcsCatalog *cat;
	uint64		i;
	int			rc;

	rc = SPI_execute_plan(plan, NULL, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read the trait catalog: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0 || SPI_processed > ECS_MAX_TRAITS)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the trait catalog has %llu traits", (unsigned long long) SPI_processed),
				 errhint("The catalog needs between 1 and %d traits.", ECS_MAX_TRAITS)));

	cat = MemoryContextAllocZero(cxt, sizeof(EcsCatalog));
	cat->ntraits = (int) SPI_processed;
	cat->weight = MemoryContextAlloc(cxt, sizeof(double) * cat->ntraits);
	cat->complement = MemoryContextAlloc(cxt, sizeof(bool) * cat->ntraits);
	cat->mutation_sd = MemoryContextAlloc(cxt, sizeof(double) * cat->ntraits);
	cat->weight_sum = 0.0;
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int			pos = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));

		if (pos != (int) i)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("trait catalog positions are not dense"),
					 errdetail("Expected position %d, found %d.", (int) i, pos),
					 errhint("Positions run from 0 to the number of traits minus one; change the catalog with ecs_add_trait().")));
		cat->weight[i] = DatumGetFloat8(SPI_getbinval(tup, desc, 2, &isnull));
		cat->complement[i] = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
		cat->mutation_sd[i] = DatumGetFloat8(SPI_getbinval(tup, desc, 4, &isnull));
		cat->weight_sum += cat->weight[i];
	}
	SPI_freetuptable(SPI_tuptable);
	return cat;
}

/*
 * ecs_genome_values
 *		Copy the values of a stored genome into out[ntraits], checked
 *		against the catalog size (ecs_genome_read); 22000 naming the agent
 *		when it does not match.
 */
void
ecs_genome_values(Datum genome, const char *id, int ntraits, float4 *out)
{
	const float4 *g = ecs_genome_read(genome, out, ntraits);

	if (g == NULL)
	{
		ArrayType  *arr = DatumGetArrayTypeP(genome);

		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("genome of agent \"%s\" does not match the trait catalog", id),
				 errdetail("The genome has %d values, the catalog %d traits.",
						   ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr)), ntraits),
				 errhint("Genomes are checked on write; this one was written before the catalog changed or with triggers off.")));
	}
	if (g != out)
		memcpy(out, g, sizeof(float4) * ntraits);
}

/*
 * ecs_genome_target
 *		target[t] = a[t] or 1 - a[t] by the trait's mode, in double.
 */
void
ecs_genome_target(const EcsCatalog *cat, const float4 *a, double *target)
{
	int			t;

	for (t = 0; t < cat->ntraits; t++)
		target[t] = cat->complement[t] ? 1.0 - (double) a[t] : (double) a[t];
}

/* a one-dimensional float8 array without NULLs, of n elements */
static double *
float8_array_values(ArrayType *arr, const char *what, int *n)
{
	if (ARR_ELEMTYPE(arr) != FLOAT8OID || ARR_NDIM(arr) != 1 ||
		(ARR_HASNULL(arr) && array_contains_nulls(arr)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional float8 array without NULLs", what)));
	*n = ARR_DIMS(arr)[0];
	return (double *) ARR_DATA_PTR(arr);
}

/*
 * ecs_genome_read
 *		The nt values of a stored genome datum, read in place: NULL unless
 *		it is a one-dimensional float4 array of nt values without NULLs.
 *		Short-header (unaligned) arrays are copied into buf; compressed or
 *		external ones are detoasted.  No palloc on the common path, which is
 *		what makes the per-row scorer cheap.
 */
const float4 *
ecs_genome_read(Datum d, float4 *buf, int nt)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	char	   *p;
	int32		ndim,
				dataoffset,
				dim0;
	Oid			elemtype;
	char	   *data;

	if (VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v))
		v = pg_detoast_datum(v);
	p = VARDATA_ANY(v);
	if (VARSIZE_ANY_EXHDR(v) < (Size) (ARR_OVERHEAD_NONULLS(1) - VARHDRSZ))
		return NULL;
	memcpy(&ndim, p, sizeof(int32));
	memcpy(&dataoffset, p + 4, sizeof(int32));
	memcpy(&elemtype, p + 8, sizeof(Oid));
	if (ndim != 1 || dataoffset != 0 || elemtype != FLOAT4OID)
		return NULL;
	memcpy(&dim0, p + 12, sizeof(int32));
	if (dim0 != nt ||
		VARSIZE_ANY_EXHDR(v) < (Size) (ARR_OVERHEAD_NONULLS(1) - VARHDRSZ) + sizeof(float4) * nt)
		return NULL;
	data = p + (ARR_OVERHEAD_NONULLS(1) - VARHDRSZ);
	if (((uintptr_t) data % sizeof(float4)) == 0)
		return (const float4 *) data;
	memcpy(buf, data, sizeof(float4) * nt);
	return buf;
}

/* a varlena as its bytes (toasted forms are compared as they are) */
static bool
same_bytes(struct varlena *a, struct varlena *b)
{
	return VARSIZE_ANY(a) == VARSIZE_ANY(b) && memcmp(a, b, VARSIZE_ANY(a)) == 0;
}

static struct varlena *
copy_bytes(struct varlena *v)
{
	struct varlena *c = palloc(VARSIZE_ANY(v));

	memcpy(c, v, VARSIZE_ANY(v));
	return c;
}

/* target and weights of one call site, parsed once per distinct pair of datums */
typedef struct ScoreCache
{
	MemoryContext cxt;			/* what follows; reset when re-parsed */
	struct varlena *target_raw; /* copies of the argument bytes */
	struct varlena *weight_raw;
	bool		stable_args;	/* both are Consts or query parameters */
	int			n;
	double		wsum;
	double	   *target;
	double	   *weight;
	float4	   *buf;
} ScoreCache;

PG_FUNCTION_INFO_V1(ecs_genome_score);

/*
 * ecs_genome_score(genome real[], target float8[], weights float8[]) float8
 *		1 - sum w|target - genome| / sum w.  IMMUTABLE STRICT; 22023 when
 *		target and weights differ in length, hold NULLs, or the weights do
 *		not sum to a positive finite number; a genome that is not a
 *		one-dimensional real[] of that length without NULLs scores NULL (it
 *		cannot be compared).  target and weights are parsed once per call
 *		site: once per query when they are constants or parameters, else
 *		again whenever their bytes change (a memcmp, never a pointer test).
 */
Datum
ecs_genome_score(PG_FUNCTION_ARGS)
{
	ScoreCache *cache = (ScoreCache *) fcinfo->flinfo->fn_extra;
	struct varlena *traw = PG_GETARG_RAW_VARLENA_P(1);
	struct varlena *wraw = PG_GETARG_RAW_VARLENA_P(2);
	const float4 *g;

	/*
	 * Constants and query parameters cannot change during the query: parse
	 * them once.  Anything else (a column, say) is compared byte for byte.
	 */
	if (cache == NULL || cache->target_raw == NULL ||
		!(cache->stable_args ||
		  (same_bytes(cache->target_raw, traw) && same_bytes(cache->weight_raw, wraw))))
	{
		MemoryContext oldcxt;
		int			nt,
					nw,
					t;
		double	   *target;
		double	   *weight;
		double		wsum = 0.0;

		/* the arrays of the previous call site values go: memory stays bounded */
		if (cache == NULL)
		{
			cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ScoreCache));
			cache->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "ecs_genome_score",
											   ALLOCSET_SMALL_SIZES);
			fcinfo->flinfo->fn_extra = cache;
		}
		else
		{
			/* invalid until parsed again (an error may come first) */
			MemoryContextReset(cache->cxt);
			cache->target_raw = cache->weight_raw = NULL;
			cache->stable_args = false;
		}
		oldcxt = MemoryContextSwitchTo(cache->cxt);
		target = float8_array_values(PG_GETARG_ARRAYTYPE_P_COPY(1), "target", &nt);
		weight = float8_array_values(PG_GETARG_ARRAYTYPE_P_COPY(2), "weights", &nw);

		if (nt != nw)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("target and weights differ in length"),
					 errdetail("target has %d values, weights %d.", nt, nw)));
		for (t = 0; t < nw; t++)
			wsum += weight[t];
		if (!(wsum > 0.0) || isinf(wsum))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("weights must sum to a positive finite number")));
		cache->target_raw = copy_bytes(traw);
		cache->weight_raw = copy_bytes(wraw);
		cache->stable_args = get_fn_expr_arg_stable(fcinfo->flinfo, 1) &&
			get_fn_expr_arg_stable(fcinfo->flinfo, 2);
		cache->n = nt;
		cache->wsum = wsum;
		cache->target = target;
		cache->weight = weight;
		cache->buf = palloc(sizeof(float4) * Max(nt, 1));
		MemoryContextSwitchTo(oldcxt);
	}
	g = ecs_genome_read(PG_GETARG_DATUM(0), cache->buf, cache->n);
	if (g == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(ecs_score_from_l1(ecs_weighted_l1(cache->target, cache->weight, g, cache->n),
									   cache->wsum));
}

/* a mate query of one call site, parsed once per distinct datum */
typedef struct DistanceCache
{
	MemoryContext cxt;			/* what follows; reset when re-parsed */
	struct varlena *raw;		/* copy of the argument bytes */
	bool		stable_arg;		/* a Const or a query parameter */
	ArrayType  *arr;			/* detoasted copy the query points into */
	EcsGenomeQuery q;
	float4	   *buf;
} DistanceCache;

PG_FUNCTION_INFO_V1(ecs_genome_distance);

/*
 * ecs_genome_distance(genome real[], query float8[]) float8
 *		The operator genome <~> query: sum w|target - genome| / sum w over
 *		the query's n targets and n weights (genome_index.h), so that
 *		1 - distance is the trait score bit for bit.  IMMUTABLE STRICT;
 *		22023 for a malformed query (ecs_genome_query_parse); NULL for a
 *		genome that is not a one-dimensional real[] of n values without
 *		NULLs (it cannot be compared; it sorts last).
 */
Datum
ecs_genome_distance(PG_FUNCTION_ARGS)
{
	DistanceCache *cache = (DistanceCache *) fcinfo->flinfo->fn_extra;
	struct varlena *qraw = PG_GETARG_RAW_VARLENA_P(1);
	const float4 *g;

	if (cache == NULL || cache->raw == NULL ||
		!(cache->stable_arg || same_bytes(cache->raw, qraw)))
	{
		MemoryContext oldcxt;

		/* the previous query's copies go: memory stays bounded */
		if (cache == NULL)
		{
			cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(DistanceCache));
			cache->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "ecs_genome_distance",
											   ALLOCSET_SMALL_SIZES);
			fcinfo->flinfo->fn_extra = cache;
		}
		else
		{
			/* invalid until parsed again (an error may come first) */
			MemoryContextReset(cache->cxt);
			cache->raw = NULL;
			cache->stable_arg = false;
		}
		oldcxt = MemoryContextSwitchTo(cache->cxt);
		cache->arr = PG_GETARG_ARRAYTYPE_P_COPY(1);
		ecs_genome_query_parse(cache->arr, &cache->q);
		cache->raw = copy_bytes(qraw);
		cache->stable_arg = get_fn_expr_arg_stable(fcinfo->flinfo, 1);
		cache->buf = palloc(sizeof(float4) * cache->q.n);
		MemoryContextSwitchTo(oldcxt);
	}
	g = ecs_genome_read(PG_GETARG_DATUM(0), cache->buf, cache->q.n);
	if (g == NULL)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(ecs_weighted_l1(cache->q.target, cache->q.weight, g, cache->q.n) /
					 cache->q.wsum);
}

PG_FUNCTION_INFO_V1(ecs_genome_query);

/*
 * ecs_genome_query(target float8[], weights float8[]) float8[]
 *		The mate query target || weights, checked (22023 as
 *		ecs_genome_query_parse, and when the lengths differ).  STRICT.
 */
Datum
ecs_genome_query(PG_FUNCTION_ARGS)
{
	ArrayType  *t = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *w = PG_GETARG_ARRAYTYPE_P(1);
	int			nt,
				nw;
	double	   *tv = float8_array_values(t, "target", &nt);
	double	   *wv = float8_array_values(w, "weights", &nw);
	Datum	   *d;
	ArrayType  *q;
	EcsGenomeQuery parsed;
	int			i;

	if (nt != nw)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target and weights differ in length"),
				 errdetail("target has %d values, weights %d.", nt, nw)));
	d = palloc(sizeof(Datum) * Max(2 * nt, 1));
	for (i = 0; i < nt; i++)
	{
		d[i] = Float8GetDatum(tv[i]);
		d[nt + i] = Float8GetDatum(wv[i]);
	}
	q = construct_array(d, 2 * nt, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	ecs_genome_query_parse(q, &parsed);
	PG_RETURN_ARRAYTYPE_P(q);
}
