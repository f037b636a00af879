// TensorBoard event files: the framing's CRC-32C, and what the writer writes
// read back field by field (tests/tensorboard_events.h); TensorBoard's own
// reader reads a training run's files in tests/tensorboard_reader_test.py.
#include "deca/core/tensorboard.h"

#include <algorithm>

#include "tensorboard_events.h"
#include "test_support.h"

// RFC 3720's CRC-32C check value, and the empty input.
TEST(TensorBoard, Crc32cMatchesTheStandardsCheckValue) {
  EXPECT_EQ(deca::crc32c("123456789"), 0xe3069283u);
  EXPECT_EQ(deca::crc32c(""), 0u);
  EXPECT_EQ(deca::crc32c(std::string(32, '\0')), 0x8a9136aau);  // RFC 3720 B.4: 32 bytes of zeros
}

TEST(TensorBoard, EventsReadBackWithTheirStepsTagsAndValues) {
  deca::testing::TempDir dir("deca-tb");
  std::string name;
  {
    deca::TensorBoardWriter w(dir.path() / "tb");
    w.restart(101, 1.7e9);
    w.scalar("loss/squad", 101, 2.5, 1.7e9 + 1);
    w.scalar("squad/nf1", 250, 54.51, 1.7e9 + 2);
    w.flush();
    name = w.name();
  }
  const auto files = deca::testing::tb_event_files(dir.path() / "tb");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].string(), name);
  const auto events = deca::testing::read_tb_events(files[0]);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].file_version, "brain.Event:2");
  EXPECT_EQ(events[1].session_status, 1);
  EXPECT_EQ(events[1].step, 101);
  EXPECT_EQ(events[2].tag, "loss/squad");
  EXPECT_EQ(events[2].step, 101);
  EXPECT_FLOAT_EQ(events[2].value, 2.5f);
  EXPECT_DOUBLE_EQ(events[2].wall_time, 1.7e9 + 1);
  EXPECT_EQ(events[3].tag, "squad/nf1");
  EXPECT_EQ(events[3].step, 250);
  EXPECT_FLOAT_EQ(events[3].value, 54.51f);

  // A flipped byte is caught by the data CRC.
  std::string bytes = deca::read_file(files[0]);
  bytes[bytes.size() - 6] ^= 1;
  deca::write_file_atomic(files[0], bytes);
  EXPECT_THROW(deca::testing::read_tb_events(files[0]), std::runtime_error);
}
