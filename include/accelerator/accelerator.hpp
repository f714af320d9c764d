// accelerator/accelerator.hpp — everything a service needs, in one include.
#pragma once

#include "accelerator/backend.hpp"
#include "accelerator/builder.hpp"
#include "accelerator/clock.hpp"
#include "accelerator/codec.hpp"
#include "accelerator/config.hpp"
#include "accelerator/diagnostics.hpp"
#include "accelerator/error.hpp"
#include "accelerator/key_codec.hpp"
#include "accelerator/level_cache.hpp"
#include "accelerator/loader.hpp"
#include "accelerator/local/default_local_backend.hpp"
#include "accelerator/metrics.hpp"
#include "accelerator/observability/otel.hpp"
