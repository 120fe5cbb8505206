# ecs_agents — PGXS build.  `make && make install`, then CREATE EXTENSION ecs_agents.
#
#   make test    build, install into a throwaway copy of the server, start a throwaway
#                cluster and run every test (regress, isolation, TAP, contract, fuzz,
#                client).  See test/run-tests.sh.
#   make demo    the main job: throwaway cluster, generated population, headline queries.
#   make bench   the benchmark (SCALE=100k|1m), see test/bench/README.md.

EXTENSION    = ecs_agents
EXTVERSION   = 1.1
MODULE_big   = ecs_agents
OBJS         = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
# the install script of this version and the update from 1.0 are built from
# src/; ecs_agents--1.0.sql is the frozen 1.0 install script (for updates)
DATA_built   = ecs_agents--$(EXTVERSION).sql ecs_agents--1.0--1.1.sql
DATA         = ecs_agents--1.0.sql
PGFILEDESC   = "ecs_agents - agent genomes, pedigrees and mate search"

# pg_regress: every sql/*.sql, run in name order in one database that has the extension
REGRESS      = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=ecs_agents
ISOLATION    = $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=ecs_agents
TAP_TESTS   := $(if $(wildcard test/t/*.pl),1,)
PROVE_TESTS  = $(sort $(wildcard test/t/*.pl))

# CI and `make test` build with warnings as errors; override with ECS_WERROR= for a
# compiler that warns about something harmless.
ECS_WERROR  ?= -Werror
PG_CFLAGS    = -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
               -Wno-missing-field-initializers -Wno-cast-function-type $(ECS_WERROR)

PG_CONFIG   ?= pg_config
PGXS        := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# The install script is built from its parts, in name order.
ecs_agents--$(EXTVERSION).sql: $(sort $(wildcard src/sql/*.sql))
	cat $^ > $@

# The update script: its head (with functions replaced since 1.0), then the
# parts of the install script 1.1 added: the pedigree checks, the genome index.
ecs_agents--1.0--1.1.sql: src/update/ecs_agents--1.0--1.1.head.sql src/sql/21_pedigree_checks.sql \
		src/sql/45_genome_index.sql
	cat $^ > $@

$(OBJS): src/ecs_agents.h src/pg_compat.h src/genome_index.h

.PHONY: test demo bench
test:
	bash test/run-tests.sh

demo:
	bash test/demo.sh

bench:
	bash test/bench/run.sh $(SCALE)
