#include <happy_dial/detail/lookup_threads.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>

namespace happy_dial::detail {

namespace {
// An idle thread leaves after this long: a burst of lookups does not keep 64 threads forever.
constexpr std::chrono::seconds idle_exit{10};
}  // namespace

struct lookup_threads::state {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::function<void()>> jobs;
    std::size_t threads = 0;
    std::size_t idle = 0;
    std::size_t max_threads = default_max_threads;
    bool stopping = false;
};

namespace {

void work(const std::shared_ptr<lookup_threads::state>& s) {
    std::unique_lock<std::mutex> lock(s->mutex);
    for (;;) {
        if (s->jobs.empty()) {
            if (s->stopping || s->threads > s->max_threads) {  // over a lowered bound: leave
                break;
            }
            ++s->idle;
            const bool woken =
                s->wake.wait_for(lock, idle_exit, [&] { return !s->jobs.empty() || s->stopping; });
            --s->idle;
            if (!woken) {
                break;
            }
            continue;
        }
        auto job = std::move(s->jobs.front());
        s->jobs.pop_front();
        lock.unlock();
        job();
        job = nullptr;  // its captures go before the lock is taken again
        lock.lock();
    }
    --s->threads;
}

}  // namespace

lookup_threads::lookup_threads(boost::asio::execution_context& context)
    : boost::asio::execution_context::service(context), state_(std::make_shared<state>()) {}

lookup_threads::~lookup_threads() {
    shutdown();
}

void lookup_threads::submit(std::function<void()> job) {
    std::unique_lock<std::mutex> lock(state_->mutex);
    if (state_->stopping) {
        return;
    }
    state_->jobs.push_back(std::move(job));
    if (state_->jobs.size() <= state_->idle) {
        state_->wake.notify_one();
        return;
    }
    if (state_->threads < state_->max_threads) {
        ++state_->threads;
        lock.unlock();
        try {
            std::thread([s = state_] { work(s); }).detach();
        } catch (...) {  // no thread to be had: the job waits for one that is running
            lock.lock();
            --state_->threads;
        }
    }
    // Otherwise the job waits for a busy thread to finish.
}

std::size_t lookup_threads::threads() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->threads;
}

void lookup_threads::set_max_threads(std::size_t bound) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->max_threads = bound == 0 ? 1 : bound;
}

void lookup_threads::shutdown() {
    std::deque<std::function<void()>> dropped;
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        state_->stopping = true;
        dropped.swap(state_->jobs);
    }
    state_->wake.notify_all();
    // Threads still inside getaddrinfo finish their call and leave; nobody waits for them.
}

}  // namespace happy_dial::detail
