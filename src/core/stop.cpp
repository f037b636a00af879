#include "deca/core/stop.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <string>

namespace deca::stop {
namespace {

std::atomic<int> g_signal{0};  // the first stop signal
std::atomic<int> g_count{0};   // signals since install()
std::atomic<int> g_saving{0};  // SaveGuards alive
std::atomic<bool> g_exit_after_save{false};

void say(const char* text) {
  // write(2) is async-signal-safe; the result does not matter here.
  ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

extern "C" void on_signal(int sig) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, sig);
  if (g_count.fetch_add(1) == 0) {
    say("\nstop requested: finishing the current step and saving (a second signal stops at once)\n");
    return;
  }
  if (g_saving.load() > 0) {
    say("\nsecond stop signal: exiting as soon as the checkpoint being written is complete\n");
    g_exit_after_save = true;
    return;
  }
  say("\nsecond stop signal: exiting now\n");
  ::_exit(130);
}

}  // namespace

void reset() {
  g_signal = 0;
  g_count = 0;
  g_exit_after_save = false;
}

void install() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

bool requested() { return g_signal.load(std::memory_order_relaxed) != 0; }

int signal_number() { return g_signal.load(); }

void check() {
  if (requested()) throw Interrupted("stopped by signal " + std::to_string(signal_number()));
}

void raise_request(int sig) {
  int expected = 0;
  g_signal.compare_exchange_strong(expected, sig);
  g_count.fetch_add(1);
}

SaveGuard::SaveGuard() { g_saving.fetch_add(1); }

SaveGuard::~SaveGuard() {
  if (g_saving.fetch_sub(1) == 1 && g_exit_after_save.load()) {
    say("checkpoint complete; exiting\n");
    ::_exit(130);
  }
}

}  // namespace deca::stop
