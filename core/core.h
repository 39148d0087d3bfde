/* core.h: the whole TokenScope core, for programs that want all of it. */
#pragma once

#include "ts-adaptive.h"
#include "ts-assignment.h"
#include "ts-error.h"
#include "ts-features.h"
#include "ts-grid.h"
#include "ts-image.h"
#include "ts-io.h"
#include "ts-method.h"
#include "ts-npy.h"
#include "ts-pool.h"
#include "ts-quality.h"
#include "ts-resize.h"
#include "ts-scene.h"
#include "ts-settings.h"
#include "ts-stats.h"
#include "ts-temporal.h"
