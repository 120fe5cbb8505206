/*-------------------------------------------------------------------------
 *
 * random.c
 *		Deterministic random numbers for spawning, breeding and names.
 *
 * A counter-based generator: value i of stream seed is splitmix64 of a mix
 * of both, so any draw can be recomputed from (seed, i) alone and the same
 * seed gives the same agents and names on every platform and release.  The
 * functions are pure (no state), which keeps the SQL wrappers IMMUTABLE.
 *
 * IDENTIFICATION
 *		src/random.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "ecs_agents.h"
#include "utils/builtins.h"

static inline uint64
splitmix64(uint64 x)
{
	x += UINT64CONST(0x9E3779B97F4A7C15);
	x = (x ^ (x >> 30)) * UINT64CONST(0xBF58476D1CE4E5B9);
	x = (x ^ (x >> 27)) * UINT64CONST(0x94D049BB133111EB);
	return x ^ (x >> 31);
}

/* draw number index of stream seed */
uint64
ecs_random_u64(uint64 seed, uint64 index)
{
	return splitmix64(splitmix64(seed) ^ (index * UINT64CONST(0xD6E8FEB86659FD93)));
}

/* uniform in [0, 1), 53 random bits */
double
ecs_random_unit(uint64 seed, uint64 index)
{
	return (double) (ecs_random_u64(seed, index) >> 11) * (1.0 / 9007199254740992.0);
}

/* standard normal (Box-Muller over two draws of the stream) */
double
ecs_random_normal(uint64 seed, uint64 index)
{
	double		u1 = ecs_random_unit(seed, 2 * index);
	double		u2 = ecs_random_unit(seed, 2 * index + 1);

	if (u1 < 1e-300)
		u1 = 1e-300;
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

PG_FUNCTION_INFO_V1(ecs_random);
PG_FUNCTION_INFO_V1(ecs_random_gaussian);

/*
 * ecs_random(seed bigint, i bigint) returns float8 in [0, 1)
 */
Datum
ecs_random(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(ecs_random_unit((uint64) PG_GETARG_INT64(0),
									 (uint64) PG_GETARG_INT64(1)));
}

/*
 * ecs_random_gaussian(seed bigint, i bigint) returns float8, N(0, 1)
 */
Datum
ecs_random_gaussian(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(ecs_random_normal((uint64) PG_GETARG_INT64(0),
									   (uint64) PG_GETARG_INT64(1)));
}
