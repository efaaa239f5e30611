import IntermodalCore
#if canImport(Glibc)
import Glibc
#endif

StandardStreams.writeError("intermodal-runtime: error: not yet available (the runtime issue)\n")
exit(1)
