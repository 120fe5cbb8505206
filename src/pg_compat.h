/*-------------------------------------------------------------------------
 *
 * pg_compat.h
 *		Version shims so the extension builds on PostgreSQL 13 to 17.
 *
 * Only what the sources use is shimmed; each shim names the release that
 * introduced the API it stands in for.
 *
 * IDENTIFICATION
 *		src/pg_compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef ECS_PG_COMPAT_H
#define ECS_PG_COMPAT_H

#include "funcapi.h"

/* MarkGUCPrefixReserved() appeared in 15; EmitWarningsOnPlaceholders before */
#if PG_VERSION_NUM < 150000
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/* InitMaterializedSRF() appeared in 15 (SetSingleFuncCall in 15 beta) */
#if PG_VERSION_NUM < 150000
extern void ecs_compat_init_materialized_srf(FunctionCallInfo fcinfo);
#define InitMaterializedSRF(fcinfo, flags) ecs_compat_init_materialized_srf(fcinfo)
#endif

/* this backend's local transaction id: MyProc->vxid.lxid from 17 on */
#if PG_VERSION_NUM >= 170000
#define ECS_MY_LXID (MyProc->vxid.lxid)
#else
#define ECS_MY_LXID (MyProc->lxid)
#endif

#endif							/* ECS_PG_COMPAT_H */
