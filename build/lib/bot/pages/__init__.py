"""Owner-facing web pages, opened from links in pushes (a WeChat template message can carry only
a few short fields, so its link shows the whole message). Links are signed and expire."""
