// faiss-node 0.5.1 expects faiss::idx_t (faiss >= 1.7.4); Debian bookworm ships 1.7.3,
// which keeps the type inside faiss::Index.
#pragma once
#include <faiss/Index.h>
#if FAISS_VERSION_MAJOR == 1 && FAISS_VERSION_MINOR == 7 && FAISS_VERSION_PATCH < 4
namespace faiss {
using idx_t = Index::idx_t;
}
#endif
