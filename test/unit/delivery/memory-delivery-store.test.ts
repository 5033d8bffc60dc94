import { MemoryDeliveryStore } from "../../../core/delivery/memory-delivery-store.js";
import { MemoryOtpStore } from "../../../core/otp/memory-otp-store.js";
import { runDeliveryStoreContract } from "../../../core/testing/delivery-store-contract.js";
import { vitestRunner } from "../../helpers/vitest-runner.js";

runDeliveryStoreContract(
  "memory",
  async () => {
    const codes = new MemoryOtpStore();
    const deliveries = new MemoryDeliveryStore();
    return { codes, deliveries, close: async () => void (await Promise.all([codes.close(), deliveries.close()])) };
  },
  vitestRunner,
);
