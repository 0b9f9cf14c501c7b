#include <latchkey/host/devices.hpp>

#include <utility>

namespace latchkey::host {

LentBytes::LentBytes(std::shared_ptr<Plugin> plugin, const lk_event& event)
    : plugin_(std::move(plugin)),
      data_(event.data),
      size_(event.data != nullptr ? event.data_size : 0),
      release_(event.release),
      release_context_(event.release_context) {
  if (release_ == nullptr && data_ != nullptr) {
    // Borrowed for the on_event call only: keep a copy, the plugin needs nothing back.
    owned_.assign(data_, data_ + size_);
    data_ = owned_.data();
    plugin_.reset();
  }
}

LentBytes::LentBytes(std::vector<uint8_t> bytes) : owned_(std::move(bytes)) {
  data_ = owned_.data();
  size_ = owned_.size();
}

LentBytes::~LentBytes() { reset(); }

LentBytes::LentBytes(LentBytes&& other) noexcept
    : plugin_(std::move(other.plugin_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      release_(std::exchange(other.release_, nullptr)),
      release_context_(std::exchange(other.release_context_, nullptr)),
      owned_(std::move(other.owned_)) {}

LentBytes& LentBytes::operator=(LentBytes&& other) noexcept {
  if (this != &other) {
    reset();
    plugin_ = std::move(other.plugin_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    release_ = std::exchange(other.release_, nullptr);
    release_context_ = std::exchange(other.release_context_, nullptr);
    owned_ = std::move(other.owned_);
  }
  return *this;
}

void LentBytes::reset() noexcept {
  // Release before dropping the plugin: the release function lives in its library.
  if (release_ != nullptr) release_(release_context_, data_);
  release_ = nullptr;
  release_context_ = nullptr;
  data_ = nullptr;
  size_ = 0;
  owned_.clear();
  plugin_.reset();
}

}  // namespace latchkey::host
