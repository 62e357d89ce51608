"""Windows at work (窗口): A/B posts, opening hours, kiosks, the queue (取号/叫号) and
appointments (预约)."""
