/*-------------------------------------------------------------------------
 *
 * naming.h
 *		The name generator of naming.c, shared with ecs_breed (breed.c).
 *
 * IDENTIFICATION
 *		src/naming.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECS_NAMING_H
#define ECS_NAMING_H

#include "postgres.h"

/*
 * ecs_name_generate
 *		Name for an agent of spirit (NULL: shared components only, no
 *		"of the ..." part), deterministic for seed.  The components read
 *		are cached for the backend while provably unchanged (naming.c).  With
 *		require_enabled, an unknown spirit raises P0002 and a disabled one
 *		55000; without it, a disabled spirit is named normally (unknown still
 *		raises P0002).  Connected to SPI or not; the result is a palloc'd
 *		string in the caller's current memory context.
 */
extern char *ecs_name_generate(const char *spirit, uint64 seed,
							   bool require_enabled);

/* a seed for callers that were given none (not reproducible) */
extern uint64 ecs_name_random_seed(void);

#endif							/* ECS_NAMING_H */
