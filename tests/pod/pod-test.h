/* SPDX-License-Identifier: MIT */
#pragma once

/* The pod module's tests: the tools fixture (tests/common) and the pod's header. */

#include "pod/pod.h"
#include "tools-fixture.h"
