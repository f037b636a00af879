#include "deca/train/distributed.h"

#include <torch/version.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <future>
#include <mutex>
#include <thread>

// LibTorch's c10d headers declare the backends only under these macros, which
// its own build defines; deca's build says which ones this LibTorch has.
#if defined(DECA_WITH_GLOO) && !defined(USE_C10D_GLOO)
#define USE_C10D_GLOO
#endif
#if defined(DECA_WITH_NCCL) && !defined(USE_C10D_NCCL)
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef DECA_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef DECA_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "deca/core/error.h"
#include "deca/core/log.h"

namespace deca {
namespace {

// LibTorch 2 split the process group into a front and per-device backends;
// the backends (Gloo, NCCL) are what deca constructs.
#if TORCH_VERSION_MAJOR >= 2
using Group = ::c10d::Backend;
#else
using Group = ::c10d::ProcessGroup;
#endif

using Clock = std::chrono::steady_clock;
constexpr auto kBeat = std::chrono::seconds(1);

std::string first_line(const char* what) {
  std::string s(what);
  return s.substr(0, s.find('\n'));
}

std::vector<uint8_t> to_bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string from_bytes(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

std::string heartbeat_key(int rank) { return "heartbeat/" + std::to_string(rank); }

bool loopback(const std::string& host) { return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1"; }

}  // namespace

bool backend_available(const std::string& backend) {
#ifdef DECA_WITH_GLOO
  if (backend == "gloo") return true;
#endif
#ifdef DECA_WITH_NCCL
  if (backend == "nccl") return true;
#endif
  return false;
}

struct Communicator::Impl {
  Launch launch;
  std::string backend;
  std::chrono::milliseconds timeout;
  torch::Device device{torch::kCPU};        // where the backend wants its tensors
  c10::intrusive_ptr<::c10d::Store> store;  // this thread's connection
  c10::intrusive_ptr<Group> group;
  long sequence = 0;  // numbers the store messages (gather, from_main)

  // The heartbeat: its own connection, one add per second.
  std::thread beat;
  std::mutex beat_mutex;
  std::condition_variable beat_cv;
  bool stopping = false;

  std::chrono::milliseconds stall_limit() const {  // a heartbeat this still is a lost rank
    return std::min(timeout, std::chrono::milliseconds(10000));
  }

  // A connection to the run's store: rank 0 serves it (unless torchrun's agent
  // does). deca's keys live under their own prefix, fresh for each of
  // torchrun's restarts.
  static c10::intrusive_ptr<::c10d::Store> open_store(const Launch& launch, std::chrono::milliseconds timeout,
                                                      bool main_connection) {
    ::c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(launch.master_port);
    o.isServer = main_connection && launch.rank == 0 && !launch.agent_store;
    if (!launch.agent_store) o.numWorkers = static_cast<std::size_t>(launch.world_size);
    o.waitWorkers = false;  // await_every_rank: it names the ranks that never come
    o.timeout = timeout;
    auto raw = c10::make_intrusive<::c10d::TCPStore>(launch.master_addr, o);
    return c10::make_intrusive<::c10d::PrefixStore>("deca/" + std::to_string(launch.restart), raw);
  }
  c10::intrusive_ptr<::c10d::Store> connect(bool main_connection) const {
    return open_store(launch, timeout, main_connection);
  }
  // The main connection, and this rank's "joined" key set through it, given up
  // after the timeout: TCPStore's client waits without end for the answer of a
  // port where another service accepts and never answers. Both are done on a
  // thread of their own, which is left behind when it hangs.
  c10::intrusive_ptr<::c10d::Store> connect_within_timeout() const {
    using StorePtr = c10::intrusive_ptr<::c10d::Store>;
    auto promise = std::make_shared<std::promise<StorePtr>>();
    auto future = promise->get_future();
    std::thread([promise, launch = launch, timeout = timeout] {
      try {
        auto store = open_store(launch, timeout, true);
        // add() needs an answer (a set needs none): a silent port hangs here.
        if (store->add("claims/" + std::to_string(launch.rank), 1) > 1)
          throw ConfigError("another process has already joined the run as rank " + std::to_string(launch.rank) +
                            ": give each process its own rank (RANK, --rank)");
        store->set(joined_key(launch.rank), to_bytes(std::to_string(launch.world_size)));
        promise->set_value(store);
      } catch (...) {
        promise->set_exception(std::current_exception());
      }
    }).detach();
    if (future.wait_for(timeout + std::chrono::seconds(5)) == std::future_status::timeout)
      throw std::runtime_error("no answer from a rendezvous store there (is another service listening on that port?)");
    return future.get();
  }

  void start_heartbeat() {
    auto own = connect(false);
    beat = std::thread([this, own] {
      std::unique_lock<std::mutex> lock(beat_mutex);
      while (!stopping) {
        try {
          own->add(heartbeat_key(launch.rank), 1);
        } catch (const std::exception&) {
          return;  // the store is gone: rank 0 ended; the main thread finds out at its next call
        }
        beat_cv.wait_for(lock, kBeat, [this] { return stopping; });
      }
    });
  }

  void stop_heartbeat() {
    {
      std::lock_guard<std::mutex> lock(beat_mutex);
      stopping = true;
    }
    beat_cv.notify_all();
    if (beat.joinable()) beat.join();
  }

  int64_t heartbeat_of(int rank) { return store->add(heartbeat_key(rank), 0); }

  // The ranks whose heartbeat stopped ("rank 1", "ranks 1, 3"), or "" when
  // every heartbeat goes on; "rank 0" when the store (on rank 0) is gone.
  std::string lost_ranks() {
    try {
      std::vector<int64_t> before(static_cast<size_t>(launch.world_size));
      for (int r = 0; r < launch.world_size; ++r) before[static_cast<size_t>(r)] = heartbeat_of(r);
      std::this_thread::sleep_for(2 * kBeat + kBeat / 2);
      std::string lost;
      int n = 0;
      for (int r = 0; r < launch.world_size; ++r) {
        if (r == launch.rank || heartbeat_of(r) != before[static_cast<size_t>(r)]) continue;
        lost += (n++ ? ", " : " ") + std::to_string(r);
      }
      return n == 0 ? "" : (n == 1 ? "rank" : "ranks") + lost;
    } catch (const std::exception&) {
      return launch.rank == 0 || launch.agent_store ? "" : "rank 0";  // the store went with its host
    }
  }

  // Every rank, once it has announced itself (connect_within_timeout), waits
  // for the others up to the timeout; then the message names those that never came.
  static std::string joined_key(int rank) { return "joined/" + std::to_string(rank); }
  void await_every_rank(const std::string& where) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      std::string missing;
      int n = 0;
      for (int r = 0; r < launch.world_size; ++r) {
        std::string theirs;  // the world size rank r was given
        try {
          if (!store->check({joined_key(r)})) {
            missing += (n++ ? ", " : " ") + std::to_string(r);
            continue;
          }
          theirs = from_bytes(store->get(joined_key(r)));
        } catch (const std::exception& e) {
          throw Error("rank " + std::to_string(launch.rank) + " lost the rendezvous store at " + where +
                      " while the ranks joined (" + first_line(e.what()) + "): rank 0 stopped; its log says why");
        }
        if (theirs != std::to_string(launch.world_size))
          throw ConfigError("rank " + std::to_string(r) + " was started with a world size of " + theirs + ", rank " +
                            std::to_string(launch.rank) + " with " + std::to_string(launch.world_size) +
                            ": start every rank with the same --world-size (WORLD_SIZE)");
      }
      if (n == 0) return;
      if (std::chrono::steady_clock::now() > deadline)
        throw Error(
            (n == 1 ? "rank" : "ranks") + missing + " of " + std::to_string(launch.world_size) +
            (n == 1 ? " has" : " have") + " not joined the run at " + where + " within " +
            std::to_string(timeout.count() / 1000) + " s (--dist-timeout): start every rank with the same " +
            "--world-size, --master-addr and --master-port (a rank that failed at its start says why in its own log)");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  Error lost(const std::string& what, const std::string& cause) {
    const std::string who = lost_ranks();
    const std::string of = " of " + std::to_string(launch.world_size);
    if (who.empty())
      return Error("rank " + std::to_string(launch.rank) + of + ": " + what +
                   " failed while every rank's heartbeat goes on " +
                   "(a rank is stuck, or the network failed): " + cause + "; restart all ranks with --resume");
    return Error(who + of + (who.find(',') == std::string::npos ? " is" : " are") +
                 " lost (heartbeat stopped) during " + what + " (seen by rank " + std::to_string(launch.rank) + ": " +
                 cause + "); restart all ranks with --resume");
  }

  void run(const std::string& what, const std::function<c10::intrusive_ptr<::c10d::Work>()>& start) {
    try {
      start()->wait();
    } catch (const std::exception& e) {
      throw lost(what, first_line(e.what()));
    }
  }

  // Runs a collective on `t` in place, through a copy on the backend's device
  // when `t` lives elsewhere.
  void in_place(torch::Tensor& t, const std::string& what,
                const std::function<c10::intrusive_ptr<::c10d::Work>(std::vector<torch::Tensor>&)>& op) {
    std::vector<torch::Tensor> v{t.device() == device ? t : t.to(device)};
    run(what, [&] { return op(v); });
    if (!v[0].is_same(t)) t.copy_(v[0]);
  }

  // Waits for `key`, sent by `sender`, for as long as its heartbeat goes on
  // (and, with_deadline, no longer than the timeout).
  void wait_for(const std::string& key, int sender, const std::string& what, bool with_deadline) {
    const auto start = Clock::now();
    auto changed = start;
    int64_t last = -1;
    try {
      while (!store->check({key})) {
        const auto now = Clock::now();
        const int64_t beat_now = heartbeat_of(sender);
        if (beat_now != last) last = beat_now, changed = now;
        if (now - changed > stall_limit())
          throw Error("rank " + std::to_string(sender) + " of " + std::to_string(launch.world_size) +
                      " is lost (heartbeat stopped) during " + what + "; restart all ranks with --resume");
        if (with_deadline && now - start > timeout)
          throw Error("rank " + std::to_string(sender) + " did not finish " + what + " within " +
                      std::to_string(timeout.count() / 1000) + " s (--dist-timeout); restart all ranks with --resume");
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw lost(what, first_line(e.what()));
    }
  }
};

Communicator::Communicator(const Launch& launch, const DistOptions& options, const torch::Device& device)
    : impl_(std::make_unique<Impl>()) {
  auto& I = *impl_;
  I.launch = launch;
  if (options.timeout_seconds <= 0) throw ConfigError("--dist-timeout must be positive");
  I.timeout = std::chrono::milliseconds(static_cast<long>(options.timeout_seconds * 1000));
  if (launch.world_size <= 1) {
    I.backend = "none";
    return;
  }
  const bool cuda = device.is_cuda();
  I.backend = options.backend == "auto" ? (cuda ? "nccl" : "gloo") : options.backend;
  if (I.backend != "gloo" && I.backend != "nccl")
    throw ConfigError("unknown distributed backend '" + options.backend + "' (expected auto, gloo or nccl)");
  if (!backend_available(I.backend))
    throw ConfigError("this build of deca has no " + I.backend + " backend" +
                      (I.backend == "nccl" ? " (NCCL needs the official LibTorch with CUDA; Debian's has none)"
                                           : " (its LibTorch was built without Gloo, or gloo's headers were missing)") +
                      "; choose another with --dist-backend");
  if (I.backend == "nccl" && !cuda) throw ConfigError("--dist-backend nccl needs a CUDA device (training.device cuda)");
  if (I.backend == "nccl") I.device = device;

  const std::string where = launch.master_addr + ":" + std::to_string(launch.master_port);
  log::info("rank {} of {}: joining the run at {} ({})", launch.rank, launch.world_size, where, I.backend);
  try {
    I.store = I.connect_within_timeout();
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception& e) {
    const bool serving = launch.rank == 0 && !launch.agent_store;
    const std::string cause = first_line(e.what());
    const bool foreign = cause.find("another service") != std::string::npos;  // connect_within_timeout's own
    throw Error("rank " + std::to_string(launch.rank) + " cannot " + (serving ? "open" : "join") +
                " the rendezvous at " + where + " within " + std::to_string(I.timeout.count() / 1000) + " s: " + cause +
                (foreign   ? ""
                 : serving ? " (is the port in use by another run? set MASTER_PORT or --master-port)"
                           : " (is rank 0 running, and MASTER_ADDR/--master-addr its address?)"));
  }
  I.await_every_rank(where);
  try {
    I.start_heartbeat();
    auto prefixed = c10::make_intrusive<::c10d::PrefixStore>(I.backend, I.store);
#ifdef DECA_WITH_GLOO
    if (I.backend == "gloo") {
      auto o = ::c10d::ProcessGroupGloo::Options::create(I.timeout);
      const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
      if (ifname && *ifname)
        o->devices.push_back(::c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else if (loopback(launch.master_addr))
        o->devices.push_back(::c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else
        o->devices.push_back(::c10d::ProcessGroupGloo::createDefaultDevice());
      o->threads = 2;
      I.group = c10::make_intrusive<::c10d::ProcessGroupGloo>(prefixed, launch.rank, launch.world_size, o);
    }
#endif
#ifdef DECA_WITH_NCCL
    if (I.backend == "nccl") {
      auto o = ::c10d::ProcessGroupNCCL::Options::create();
      o->timeout = I.timeout;
      I.group = c10::make_intrusive<::c10d::ProcessGroupNCCL>(prefixed, launch.rank, launch.world_size, o);
    }
#endif
  } catch (const std::exception& e) {
    I.stop_heartbeat();
    throw Error("rank " + std::to_string(launch.rank) + " cannot connect to the other ranks (" + I.backend +
                "): " + first_line(e.what()));
  }
}

Communicator::~Communicator() {
  if (impl_) impl_->stop_heartbeat();
}

const Launch& Communicator::launch() const { return impl_->launch; }
std::string Communicator::backend() const { return impl_->backend; }

void Communicator::sum(torch::Tensor& t, const std::string& what) {
  if (world_size() == 1) return;
  impl_->in_place(t, what, [&](std::vector<torch::Tensor>& v) { return impl_->group->allreduce(v); });
}

void Communicator::broadcast(torch::Tensor& t, const std::string& what) {
  if (world_size() == 1) return;
  impl_->in_place(t, what, [&](std::vector<torch::Tensor>& v) { return impl_->group->broadcast(v); });
}

bool Communicator::any(bool flag, const std::string& what) {
  if (world_size() == 1) return flag;
  auto t = torch::full({1}, flag ? 1.0f : 0.0f, torch::TensorOptions().device(impl_->device));
  sum(t, what);
  return t.item<float>() > 0;
}

std::vector<std::string> Communicator::gather(const std::string& bytes, const std::string& what) {
  if (world_size() == 1) return {bytes};
  auto& I = *impl_;
  const std::string prefix = "gather/" + std::to_string(++I.sequence) + "/";
  try {
    if (!main()) {
      I.store->set(prefix + std::to_string(rank()), to_bytes(bytes));
      return {};
    }
  } catch (const std::exception& e) {
    throw I.lost(what, first_line(e.what()));
  }
  std::vector<std::string> all{bytes};
  for (int r = 1; r < world_size(); ++r) {
    const std::string key = prefix + std::to_string(r);
    // The shares are balanced: the others finish about when rank 0 does.
    I.wait_for(key, r, what, /*with_deadline=*/true);
    all.push_back(from_bytes(I.store->get(key)));
    I.store->deleteKey(key);
  }
  return all;
}

std::string Communicator::from_main(const std::function<std::string()>& work, const std::string& what) {
  if (world_size() == 1) return work();
  auto& I = *impl_;
  const std::string key = "main/" + std::to_string(++I.sequence);
  if (main()) {
    std::string result;
    try {
      result = work();
    } catch (const std::exception& e) {
      I.store->set(key, to_bytes("E" + first_line(e.what())));
      // The store lives in this process: it stays until the others have read
      // the message (or a few seconds), so that they report it, not a lost rank 0.
      const auto until = std::chrono::steady_clock::now() + I.stall_limit();
      try {
        while (I.store->add(key + "/read", 0) < world_size() - 1 && std::chrono::steady_clock::now() < until)
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
      } catch (const std::exception&) {
      }
      throw;
    }
    I.store->set(key, to_bytes("R" + result));
    return result;
  }
  I.wait_for(key, 0, what, /*with_deadline=*/false);
  std::string v;
  try {
    v = from_bytes(I.store->get(key));
  } catch (const std::exception& e) {
    throw I.lost(what, first_line(e.what()));
  }
  if (v.empty() || v[0] != 'R') {
    try {
      I.store->add(key + "/read", 1);
    } catch (const std::exception&) {
    }
    throw Error("rank 0 failed during " + what + ": " + (v.empty() ? "" : v.substr(1)));
  }
  return v.substr(1);
}

}  // namespace deca
